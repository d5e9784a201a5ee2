-- Swedish typography and format-specific blocks.
-- In a Swedish book (lang sv…) quotation marks become ”…” and ’…’ (Swedish uses the same mark
-- on both sides); other languages keep the writers' own marks. The
-- `.pagebreak` div made from `{{< pagebreak >}}` becomes each format's page break, and
-- Quarto's `.content-visible` / `.content-hidden` with `when-format` / `unless-format` keep
-- or drop their content for this format (the PDF is made by Typst, so "pdf" means typst).
local function quoted(el)
  local mark = el.quotetype == "DoubleQuote" and "”" or "’"
  return pandoc.Inlines({ pandoc.Str(mark) }) .. el.content .. { pandoc.Str(mark) }
end

local page_breaks = {
  typst = pandoc.RawBlock("typst", "#pagebreak(weak: true)"),
  docx = pandoc.RawBlock("openxml", '<w:p><w:r><w:br w:type="page"/></w:r></w:p>'),
  html = pandoc.RawBlock("html", '<div class="pagebreak" aria-hidden="true"></div>'),
}

local function pagebreak(div)
  if div.classes:includes("pagebreak") then
    return page_breaks[FORMAT] or page_breaks.html
  end
end

local aliases = { typst = { "typst", "pdf" }, html5 = { "html", "html5" }, html = { "html", "html5" }, docx = { "docx" } }

local function is_format(name)
  for _, alias in ipairs(aliases[FORMAT] or { FORMAT }) do
    if alias == name then
      return true
    end
  end
  return false
end

local function conditional(el)
  local visible = el.classes:includes("content-visible")
  local hidden = el.classes:includes("content-hidden")
  if not visible and not hidden then
    return nil
  end
  local when, unless = el.attributes["when-format"], el.attributes["unless-format"]
  local matches = (when == nil or is_format(when)) and (unless == nil or not is_format(unless))
  if hidden then
    matches = not matches
  end
  if not matches then
    return {}
  end
  return el.content
end

local function div(el)
  return pagebreak(el) or conditional(el)
end

-- An unpaired quote, which pandoc makes an English opening mark, is made Swedish once for every
-- format before pandoc runs (engine/assemble.py swedish_marks): a pass over every word here cost
-- each format's run a third of a second in a long book.
local settings = pandoc.json.decode(os.getenv("UNDERLAG_SETTINGS") or "{}")
if (settings.lang or ""):match("^sv") then
  return { { Quoted = quoted, Div = div, Span = conditional } }
end
return { { Div = div, Span = conditional } }
