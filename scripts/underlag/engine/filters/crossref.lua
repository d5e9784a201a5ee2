-- Numbering and cross-references, the Quarto way, in the book's language.
--
-- Sections are numbered in document order (appendix chapters get letters); every captioned
-- figure and table is numbered within its chapter, in its own series ("Figure 3.2", as Quarto
-- books do), or through the whole book with `crossref: chapters: false`. `@fig-x`, `@tbl-x`,
-- `@sec-x` become "Figure 3", "Table 2", "Section 4.1" (the words come from the book's language
-- and `crossref:` options, through UNDERLAG_SETTINGS; see engine/settings.py); `@Fig-x` is
-- capitalised; `[-@fig-x]` gives the number alone, so `[Figur -@fig-x]` reads "Figur 3".
-- `number-sections: false` numbers no heading, and a reference to a section then reads as the
-- section's title (as Quarto does); `number-depth: n` leaves deeper headings unnumbered, and the
-- sections of an unnumbered chapter are unnumbered too.
-- Typst numbers its own headings, figures and tables: there references become Typst
-- `ref`s, so the PDF cannot disagree with itself. For DOCX and HTML the numbers are
-- written into headings, captions and links here.
local settings = pandoc.json.decode(os.getenv("UNDERLAG_SETTINGS") or "{}")
local labels = settings.prefix or { fig = "Figure", tbl = "Table", sec = "Section" }
local caption_labels = settings.title or { fig = "Figure", tbl = "Table" }
local and_word = settings["and"] or "and"
local number_sections = settings["number-sections"] ~= false
local number_depth = settings["number-depth"] or 0
local chapter_numbers = settings.chapters ~= false and number_sections
local title_delim = settings["title-delim"] or ":"
local patterns = settings.numbering or {} -- fig/tbl: "1", "I", "i", "a", "A" (crossref: labels)
local numbers = {}
local titles = {} -- the text of every unnumbered heading with an id: a reference to it reads so
local typst = FORMAT == "typst"

local function capitalise(s)
  return (s:gsub("^%l", string.upper))
end

local function letter(n)
  return string.char(64 + n)
end

local function numbered(h, unnumbered_chapter)
  if not number_sections or h.classes:includes("unnumbered") then
    return false
  end
  if number_depth > 0 and h.level > number_depth then
    return false
  end
  return not (unnumbered_chapter and h.level > 1)
end

local function roman(n)
  local values = { { 1000, "M" }, { 900, "CM" }, { 500, "D" }, { 400, "CD" }, { 100, "C" }, { 90, "XC" },
    { 50, "L" }, { 40, "XL" }, { 10, "X" }, { 9, "IX" }, { 5, "V" }, { 4, "IV" }, { 1, "I" } }
  local out = ""
  for _, pair in ipairs(values) do
    while n >= pair[1] do
      out = out .. pair[2]
      n = n - pair[1]
    end
  end
  return out
end

local function styled(n, kind)
  local pattern = patterns[kind] or "1"
  if pattern == "I" then
    return roman(n)
  elseif pattern == "i" then
    return roman(n):lower()
  elseif pattern == "a" or pattern == "A" then
    return string.char(string.byte(pattern) + n - 1)
  end
  return tostring(n)
end

local function collect(doc)
  -- numbers every target and returns the document with the headings' numbers attached
  local counters = { 0, 0, 0, 0, 0, 0 }
  local in_appendix = false
  local unnumbered_chapter = false
  local chapter = nil -- the current chapter's number, e.g. "3" or "A"
  local count = { fig = 0, tbl = 0 }
  local function next_number(kind)
    count[kind] = count[kind] + 1
    return chapter and (chapter .. "." .. styled(count[kind], kind)) or styled(count[kind], kind)
  end
  return doc:walk({
    traverse = "topdown",
    Header = function(h)
      if h.attributes.appendix == "true" and not in_appendix then
        in_appendix = true
        counters[1] = 0
      end
      if h.level == 1 then
        unnumbered_chapter = h.classes:includes("unnumbered")
        if chapter_numbers then
          count = { fig = 0, tbl = 0 }
          chapter = nil
        end
      end
      if not numbered(h, unnumbered_chapter) then
        if not h.classes:includes("unnumbered") then
          h.classes:insert("unnumbered") -- so the Typst writer gives it no number either
        end
        titles[h.identifier] = h.content
        return h
      end
      counters[h.level] = counters[h.level] + 1
      for level = h.level + 1, #counters do
        counters[level] = 0
      end
      local parts = {}
      for level = 1, h.level do
        local n = counters[level]
        parts[level] = (level == 1 and in_appendix) and letter(n) or tostring(n)
      end
      if h.level == 1 and chapter_numbers then
        chapter = parts[1]
      end
      numbers[h.identifier] = table.concat(parts, ".")
      h.attributes.number = table.concat(parts, ".")
      return h
    end,
    Figure = function(fig)
      numbers[fig.identifier] = next_number("fig")
    end,
    Table = function(tbl)
      if #tbl.caption.long > 0 then
        numbers[tbl.identifier] = next_number("tbl")
      end
    end,
  })
end

local function caption_prefix(kind, id)
  return { pandoc.Str(caption_labels[kind]), pandoc.Space(), pandoc.Str(numbers[id] .. title_delim), pandoc.Space() }
end

local function prefix_caption(caption, kind, id)
  local long = caption.long
  if #long > 0 and long[1].content then
    long[1].content = pandoc.Inlines(caption_prefix(kind, id)) .. long[1].content
  end
  return caption
end

local function typst_string(s)
  return '"' .. s:gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("\n", " ") .. '"'
end

local function reference(citation)
  local id = citation.id
  local kind = id:match("^(%a%a%a)%-")
  if not kind or not labels[kind:lower()] then
    return nil
  end
  local key = kind:lower() .. id:sub(4)
  if numbers[key] == nil and titles[key] then
    -- an unnumbered section is named by its title (Quarto with number-sections: false)
    return pandoc.Link(titles[key], "#" .. key)
  end
  if numbers[key] == nil then
    error("cross-reference @" .. id .. " has no target")
  end
  local word = kind:match("^%u") and capitalise(labels[kind:lower()]) or labels[kind:lower()]
  local prefix = pandoc.utils.stringify(citation.prefix)
  local bare = citation.mode == "SuppressAuthor"
  if typst then
    -- the writer's prefix is text, never Typst markup: `[#(1200+34) -@fig-x]` prints as written
    local supplement = bare and (prefix ~= "" and typst_string(prefix) or "none") or typst_string(word)
    return pandoc.RawInline("typst", string.format("#ref(<%s>, supplement: %s)", key, supplement))
  end
  local text = bare and numbers[key] or (word .. "\u{a0}" .. numbers[key])
  if bare and prefix ~= "" then
    text = prefix .. "\u{a0}" .. text
  end
  return pandoc.Link(text, "#" .. key)
end

local function cite(el)
  local out = pandoc.Inlines({})
  for i, citation in ipairs(el.citations) do
    local ref = reference(citation)
    if not ref then
      return nil -- a bibliography citation: left to citeproc
    end
    if i > 1 then
      out:extend(i == #el.citations and { pandoc.Space(), pandoc.Str(and_word) } or { pandoc.Str(",") })
      out:insert(pandoc.Space())
    end
    out:insert(ref)
  end
  return out
end

local function alt_text(img, fig)
  local alt = img.attributes["fig-alt"] or img.attributes.alt
  if alt == nil or alt == "" then
    alt = pandoc.utils.stringify(img.caption)
  end
  if (alt == nil or alt == "") and fig then
    alt = pandoc.utils.stringify(fig.caption.long)
  end
  return alt
end

local function typst_image(img, alt)
  local width = img.attributes.width
  local size = width and width:match("^[%d.]+%%$") and (", width: " .. width) or ""
  return string.format("image(%s, alt: %s%s)", typst_string(img.src), typst_string(alt), size)
end

local function first_image(fig)
  local found
  fig:walk({
    Image = function(img)
      found = found or img
    end,
  })
  return found
end

local function figure(fig)
  local img = first_image(fig)
  if not img then
    return nil
  end
  local alt = alt_text(img, fig)
  if typst then
    local caption = pandoc.write(pandoc.Pandoc(fig.caption.long), "typst"):gsub("%s+$", "")
    local label = fig.identifier ~= "" and (" <" .. fig.identifier .. ">") or ""
    return pandoc.RawBlock("typst",
      string.format("#figure(%s, caption: [%s])%s", typst_image(img, alt), caption, label))
  end
  img.caption = pandoc.Inlines(alt)
  img.attributes["fig-alt"] = nil
  fig.content = { pandoc.Plain({ img }) }
  fig.caption = prefix_caption(fig.caption, "fig", fig.identifier)
  return fig
end

local function inline_image(img)
  if typst then
    return pandoc.RawInline("typst", "#box(" .. typst_image(img, alt_text(img)) .. ")")
  end
  img.caption = pandoc.Inlines(alt_text(img))
  img.attributes["fig-alt"] = nil
  return img
end

local function table_(tbl)
  if #tbl.caption.long == 0 then
    if typst then -- Typst would count it as a numbered table figure
      return { pandoc.RawBlock("typst", "#[#show figure: set figure(numbering: none)"), tbl, pandoc.RawBlock("typst", "]") }
    end
    return nil
  end
  if not typst then
    tbl.caption = prefix_caption(tbl.caption, "tbl", tbl.identifier)
  end
  return tbl
end

local function header(h)
  local number = h.attributes.number
  h.attributes.number = nil
  h.attributes.appendix = nil
  h.attributes["chapter-source"] = nil
  if number and not typst then
    h.content = pandoc.Inlines({ pandoc.Span(number, { class = "header-section-number" }), pandoc.Space() })
      .. h.content
  end
  return h
end

-- Figures before lone images: a figure's image must still be an Image when it is handled.
return {
  { Pandoc = collect },
  { Figure = figure, Table = table_, Header = header, Cite = cite },
  { Image = inline_image },
}
