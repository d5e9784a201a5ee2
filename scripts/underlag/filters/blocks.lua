-- Swedish typography and format-specific blocks.
-- Quotation marks become ”…” and ’…’ (Swedish uses the same mark on both sides), and
-- the `.pagebreak` div made from `{{< pagebreak >}}` becomes each format's page break.
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

return { { Quoted = quoted, Div = pagebreak } }
