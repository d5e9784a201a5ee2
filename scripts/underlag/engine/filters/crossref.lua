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
-- `ref`s, so the PDF cannot disagree with itself. For HTML the numbers are written into
-- headings, captions and links here. For DOCX they become Word's own machinery, so a writer
-- who inserts a chapter in Word gets every number right again: a caption's number is a SEQ
-- field (after a STYLEREF to the chapter number, when figures are numbered in chapters) inside
-- a bookmark, a reference is a REF field to that bookmark, and a heading's number is marked
-- (style "Heading Number") for render/docx_word.py to replace by list numbering linked to the
-- heading styles. Every field carries today's number as its result, so the document reads
-- right before any update. The series and caption words are the book's (`SEQ Figur`, `SEQ
-- Figure`). Equations, callouts and subfigures are numbered here in DOCX too: a reference to
-- one is a link with its number as text, not a field.
local settings = pandoc.json.decode(os.getenv("UNDERLAG_SETTINGS") or "{}")
-- Quarto's callout cross-reference prefixes and the callout each belongs to
local callout_kinds = { nte = "note", tip = "tip", wrn = "warning", imp = "important", cau = "caution" }
-- The reference words: figures, tables, sections and equations from the crossref-*-prefix keys,
-- callouts from their titles (callout-*-title) unless the language gives a crossref-nte-prefix …
-- (Swedish references are lower case in running text: engine/language/underlag-sv.yml).
local labels = settings.prefix or { fig = "Figure", tbl = "Table", sec = "Section", eq = "Equation",
  nte = "Note", tip = "Tip", wrn = "Warning", imp = "Important", cau = "Caution" }
local caption_labels = settings.title or { fig = "Figure", tbl = "Table" }
local and_word = settings["and"] or "and"
local number_sections = settings["number-sections"] ~= false
local number_depth = settings["number-depth"] or 0
local chapter_numbers = settings.chapters ~= false and number_sections
local title_delim = settings["title-delim"] or ":"
local patterns = settings.numbering or {} -- fig/tbl: "1", "I", "i", "a", "A" (crossref: labels)
local numbers = {}
local fielded = {} -- DOCX: the ids whose number is a bookmarked field (captions, numbered headings): REF targets
local titles = {} -- an unnumbered heading's id -> its title, the text of a reference to it
local parents = {} -- a subfigure's id -> its figure's id (Typst refers to the figure, then the letter)
local typst = FORMAT == "typst"
local docx = FORMAT == "docx"
local bookmark_count = 900000 -- far above the ids pandoc gives its own bookmarks

local function capitalise(s)
  return (s:gsub("^%l", string.upper))
end

local function letter(n)
  return string.char(64 + n)
end

-- DOCX: the text width (docx.py passes it) for images sized in %, which pandoc only ever shrinks.
local text_width_in = nil

local function docx_width(img)
  local percent = (img.attributes.width or ""):match("^%s*([%d.]+)%%%s*$")
  if FORMAT == "docx" and percent and text_width_in then
    img.attributes.width = string.format("%.3fin", tonumber(percent) / 100 * text_width_in)
  end
end

-- `$$ … $$ {#eq-x}`: pandoc reads the label as text after the display math; Quarto numbers it.
-- (the DOCX's review anchors, empty spans, may stand before it: render/anchors.py)
local function equation_label(para)
  for _, inline in ipairs(para.content) do -- most paragraphs are text: known by their first inline
    if inline.t == "Math" then
      break
    elseif not (inline.t == "Span" and #inline.content == 0) then
      return nil
    end
  end
  local inlines = pandoc.Inlines(para.content):filter(function(inline)
    return not (inline.t == "Span" and #inline.content == 0)
  end)
  if inlines[1] and inlines[1].t == "Math" and inlines[1].mathtype == "DisplayMath" then
    local last = inlines[#inlines]
    if #inlines <= 3 and last.t == "Str" then
      return last.text:match("^{#(eq%-[%w%-_:.]+)}$"), inlines[1]
    end
  end
end

-- An unnumbered heading's title as the text of a reference to it: without the DOCX's review
-- anchors (empty spans, render/anchors.py) or other ids, which must each name one place.
local function reference_title(h)
  return h.content:clone():walk({
    Span = function(span)
      if #span.content == 0 then
        return {}
      end
      span.identifier = ""
      return span
    end,
  })
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
  text_width_in = tonumber(pandoc.utils.stringify(doc.meta["underlag-text-width-in"] or ""))
  doc.meta["underlag-text-width-in"] = nil -- ours, not the document's: kept out of its properties
  -- numbers every target and returns the document with the headings' numbers attached
  local counters = { 0, 0, 0, 0, 0, 0 }
  local in_appendix = false
  local unnumbered_chapter = false
  local chapter = nil -- the current chapter's number, e.g. "3" or "A"
  local count = {}
  local function next_number(kind)
    count[kind] = (count[kind] or 0) + 1
    return chapter and (chapter .. "." .. styled(count[kind], kind)) or styled(count[kind], kind)
  end
  return doc:walk({
    traverse = "topdown",
    Header = function(h)
      if h.attributes.appendix == "true" and not in_appendix then
        in_appendix = true
        counters[1] = 0
      end
      if h.attributes["callout-title"] then
        return nil -- a callout's title, not a section (callouts.lua takes it)
      end
      if h.level == 1 then
        unnumbered_chapter = h.classes:includes("unnumbered")
        if chapter_numbers then
          count = {}
          chapter = nil
        end
      end
      if not numbered(h, unnumbered_chapter) then
        if not h.classes:includes("unnumbered") then
          -- so the Typst writer gives it no number either (and Quarto: the sections of an
          -- unnumbered chapter are unnumbered too, not "1.1" under the last one)
          h.classes:insert("unnumbered")
        end
        titles[h.identifier] = reference_title(h)
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
      fielded[h.identifier] = true
      h.attributes.number = table.concat(parts, ".")
      if h.level == 1 and counters[1] == 1 then -- the first chapter, the first appendix
        h.attributes["opens-part"] = "true"
      end
      return h
    end,
    Figure = function(fig)
      numbers[fig.identifier] = next_number("fig")
      fielded[fig.identifier] = #fig.caption.long > 0 and fig.caption.long[1].content ~= nil
      if fig.classes:includes("subfigures") then
        -- Quarto: subfigures are lettered under their figure, "figur 1.1 (a)"; not figures of their own
        local n = 0
        fig.content = fig.content:walk({
          Figure = function(sub)
            n = n + 1
            sub.attributes["subfigure-letter"] = string.char(96 + n)
            numbers[sub.identifier] = numbers[fig.identifier] .. " (" .. string.char(96 + n) .. ")"
            parents[sub.identifier] = fig.identifier
            return sub
          end,
        })
        return fig, false
      end
    end,
    Div = function(div)
      local prefix = div.identifier:match("^(%a%a%a)%-")
      local callout = div.classes:find_if(function(c)
        return c:match("^callout%-")
      end)
      local numbered_callout = prefix and callout_kinds[prefix] and div.classes:includes("callout-" .. callout_kinds[prefix])
      if numbered_callout then
        numbers[div.identifier] = next_number(prefix)
        div.attributes["callout-number"] = numbers[div.identifier]
      end
      if callout and not div.attributes.title then -- only a callout's content is read: the rest stays in pandoc
        local content = div.content
        local first = content[1]
        if first and first.t == "Header" then
          first.attributes["callout-title"] = "true"
          content[1] = first
          div.content = content
        end
      end
      if numbered_callout or callout then
        return div
      end
    end,
    Para = function(para)
      local id = equation_label(para)
      if id then
        numbers[id] = next_number("eq")
      end
    end,
    Table = function(tbl)
      if #tbl.caption.long > 0 then
        numbers[tbl.identifier] = next_number("tbl")
        fielded[tbl.identifier] = tbl.caption.long[1].content ~= nil
      end
    end,
  })
end

-- Word's bookmarks: a leading "_" hides them from the writer's bookmark list, as Word's own
-- cross-reference bookmarks (_Ref…) are hidden; a name holds at most 40 characters.
local function bookmark_name(id)
  local name = "_Ref_" .. id:gsub("[^%w]", "_")
  if #name > 40 then
    name = "_Ref_" .. pandoc.utils.sha1(id):sub(1, 24)
  end
  return name
end

local function xml_text(s)
  return (s:gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"))
end

local function text_run(s)
  return s == "" and "" or ('<w:r><w:t xml:space="preserve">' .. xml_text(s) .. "</w:t></w:r>")
end

local function field(instruction, result)
  return '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
    .. '<w:r><w:instrText xml:space="preserve"> ' .. instruction .. " </w:instrText></w:r>"
    .. '<w:r><w:fldChar w:fldCharType="separate"/></w:r>' .. text_run(result)
    .. '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
end

local function bookmarked(id, xml)
  bookmark_count = bookmark_count + 1
  return string.format('<w:bookmarkStart w:id="%d" w:name="%s"/>%s<w:bookmarkEnd w:id="%d"/>',
    bookmark_count, bookmark_name(id), xml, bookmark_count)
end

-- "Tabell 2.1": the chapter's number from the last Heading 1 (STYLEREF) and the table's
-- number in its series, restarted at each Heading 1 (SEQ \s 1), as the PDF numbers them.
-- With `crossref: chapters: false` (or no section numbers) one series runs through the book: a
-- plain SEQ. The number's style follows `crossref: fig-labels` … (Word's \* switches).
local seq_formats = { ["1"] = "ARABIC", I = "ROMAN", i = "roman", A = "ALPHABETIC", a = "alphabetic" }

local function number_fields(kind, id)
  local number = numbers[id]
  -- the series is named by the book's caption word ("SEQ Figur"), as Word's own captions are
  local series = "SEQ " .. caption_labels[kind]:gsub("%s", "_") .. " \\* " .. seq_formats[patterns[kind] or "1"]
  if not chapter_numbers then
    return field(series, number)
  end
  -- LibreOffice ignores \s: render/docx_word.py puts a hidden reset (SEQ … \r 0 \h) in each Heading 1
  local chapter, n = number:match("^(.+)%.([^.]+)$")
  if chapter then
    return field("STYLEREF 1 \\s", chapter) .. text_run(".") .. field(series .. " \\s 1", n)
  end
  return field(series .. " \\s 1", number) -- before the first chapter, or in an unnumbered one
end

local function caption_prefix(kind, id)
  if docx then
    return { pandoc.RawInline("openxml", text_run(caption_labels[kind] .. " ") .. bookmarked(id, number_fields(kind, id))
      .. text_run(title_delim .. " ")) }
  end
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
  local kind = id:match("^(%a%a%a?)%-")
  if not kind or not labels[kind:lower()] then
    return nil
  end
  local key = kind:lower() .. id:sub(#kind + 1)
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
  if docx and fielded[key] then
    -- \w: the heading's number in full ("4.1"); \h: a link, as the writer's other references
    local instruction = "REF " .. bookmark_name(key) .. (kind:lower() == "sec" and " \\w \\h" or " \\h")
    local label = bare and (prefix ~= "" and (prefix .. "\u{a0}") or "") or (word .. "\u{a0}")
    return pandoc.RawInline("openxml", text_run(label) .. field(instruction, numbers[key]))
  end
  local text = bare and numbers[key] or (word .. "\u{a0}" .. numbers[key])
  if bare and prefix ~= "" then
    text = prefix .. "\u{a0}" .. text
  end
  if typst then
    -- the writer's prefix is text, never Typst markup: `[#(1200+34) -@fig-x]` prints as written
    local supplement = bare and (prefix ~= "" and typst_string(prefix) or "none") or typst_string(word)
    if parents[key] then -- Typst numbers the figure; the subfigure's letter follows it
      local letter_ = numbers[key]:match("%((%a)%)$")
      return pandoc.RawInline("typst", string.format("#ref(<%s>, supplement: %s)\u{a0}(%s)", parents[key],
        supplement, letter_))
    end
    if kind:lower() == "fig" or kind:lower() == "tbl" or kind:lower() == "sec" then
      return pandoc.RawInline("typst", string.format("#ref(<%s>, supplement: %s)", key, supplement))
    end
    -- equations and callouts are numbered here, not by Typst: a link with the number
    return pandoc.RawInline("typst", string.format("#link(<%s>)[#%s]", key, typst_string(text)))
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

-- A width or height as Quarto writes it (50%, 300px, 3in, 8cm, 40mm, 100pt, 2em) as a Typst
-- length: pixels at CSS's 96 per inch; a bare number is pixels too, as in HTML.
local function typst_length(value)
  local number, unit = (value or ""):match("^%s*([%d.]+)%s*(%a*%%?)%s*$")
  if not number then
    return nil
  end
  if unit == "" or unit == "px" then
    return string.format("%gpt", tonumber(number) * 0.75)
  end
  local units = { ["%"] = true, ["in"] = true, cm = true, mm = true, pt = true, em = true }
  return units[unit] and (number .. unit) or nil
end

local function typst_image(img, alt)
  local size = ""
  for _, key in ipairs({ "width", "height" }) do
    local length = typst_length(img.attributes[key])
    if length then
      size = size .. ", " .. key .. ": " .. length
    end
  end
  return string.format("image(%s, alt: %s%s)", typst_string(img.src), typst_string(alt), size)
end

-- Quarto's fig-align (left, center, right; "default" leaves the format's own) of a figure's image.
local function figure_align(fig, img)
  local align = img.attributes["fig-align"] or fig.attributes["fig-align"]
  img.attributes["fig-align"] = nil
  fig.attributes["fig-align"] = nil
  if align == "left" or align == "center" or align == "right" then
    return align
  end
end

-- DOCX has no attribute for it: a bookmark in the caption that docx.py turns into the
-- paragraphs' alignment (and removes).
local marks = 0
local function docx_mark(kind)
  marks = marks + 1
  return pandoc.Span({}, { id = string.format("underlag-%s-%d", kind, marks) })
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

-- The link a linked figure's image sits in (floats.lua), or nil.
local function image_link(fig)
  local found
  fig.content:walk({
    Link = function(link)
      found = found or link
    end,
  })
  return found
end

local function typst_caption(fig)
  -- an image in the caption (in a footnote there) is written here, not by the Image pass: give it its alt
  local long = pandoc.Blocks(fig.caption.long):walk({
    Image = function(inner)
      return pandoc.RawInline("typst", "#box(" .. typst_image(inner, alt_text(inner)) .. ")")
    end,
  })
  return (pandoc.write(pandoc.Pandoc(long), "typst"):gsub("%s+$", ""))
end

local function typst_label(fig)
  return fig.identifier ~= "" and (" <" .. fig.identifier .. ">") or ""
end

-- A subfigure (floats.lua made it, collect lettered it): "(a) caption" under its image; in
-- Typst a figure of its own kind, so Typst's figure numbers count only the main figures.
local function subfigure(fig)
  local letter_ = "(" .. fig.attributes["subfigure-letter"] .. ")"
  fig.attributes["subfigure-letter"] = nil
  local img = first_image(fig)
  local alt = img and alt_text(img, fig) or ""
  if typst then
    return pandoc.RawBlock("typst", string.format(
      '#figure(%s, caption: [%s %s], kind: "subfigure", supplement: none, numbering: none, outlined: false)%s',
      img and typst_image(img, alt) or "[]", letter_, typst_caption(fig), typst_label(fig)))
  end
  if img then
    img.caption = pandoc.Inlines(alt)
    img.attributes["fig-alt"] = nil
    docx_width(img)
    fig.content = { pandoc.Plain({ img }) }
  end
  if #fig.caption.long == 0 then
    fig.caption = { long = { pandoc.Plain({}) } }
  end
  local first = fig.caption.long[1]
  first.content = pandoc.Inlines({ pandoc.Str(letter_), pandoc.Space() }) .. first.content
  return fig
end

-- A figure of subfigures: a grid of `layout-ncol` columns (all in one row when not given).
local function subfigures(fig)
  fig.classes = fig.classes:filter(function(c)
    return c ~= "subfigures"
  end)
  local columns = tonumber(fig.attributes["layout-ncol"]) or #fig.content
  for _, key in ipairs({ "layout-ncol", "layout-nrow", "layout" }) do
    fig.attributes[key] = nil
  end
  if typst then
    local cells = {}
    for _, block in ipairs(fig.content) do
      if block.t == "RawBlock" then
        table.insert(cells, "[" .. block.text .. "]")
      end
    end
    return pandoc.RawBlock("typst", string.format("#figure(grid(columns: %d, gutter: 1em, %s), kind: image, "
      .. "caption: [%s])%s", columns, table.concat(cells, ", "), typst_caption(fig), typst_label(fig)))
  end
  fig.caption = prefix_caption(fig.caption, "fig", fig.identifier)
  if FORMAT == "docx" then
    -- pandoc's DOCX writer sets each block of the figure in a table cell of one row: with more
    -- subfigures than columns, each cell holds a column's subfigures, one under the other
    if #fig.content > columns then
      local cells = {}
      for index, block in ipairs(fig.content) do
        local column = (index - 1) % columns + 1
        cells[column] = cells[column] or pandoc.Div({})
        cells[column].content:insert(block)
      end
      fig.content = cells
    end
    return fig
  end
  local grid = string.format("display: grid; grid-template-columns: repeat(%d, 1fr); gap: 1em", columns)
  fig.content = { pandoc.Div(fig.content, { style = grid, class = "quarto-layout-panel" }) }
  return fig
end

local function figure(fig)
  -- its references first: a caption is written for Typst here, and an alt text may be read from it
  fig = fig:walk({ Cite = cite })
  if fig.attributes["subfigure-letter"] then
    return subfigure(fig)
  end
  if fig.classes:includes("subfigures") then
    return subfigures(fig)
  end
  local img = first_image(fig)
  if not img then -- a figure div of text or other content: Typst numbers and captions it itself
    if not typst then
      fig.caption = prefix_caption(fig.caption, "fig", fig.identifier)
    end
    return fig
  end
  local alt = alt_text(img, fig)
  local align = figure_align(fig, img)
  local link = image_link(fig)
  if typst then
    local body = typst_image(img, alt)
    if link then
      body = string.format("link(%s, %s)", typst_string(link.target), body)
    end
    local code = string.format("#figure(%s, caption: [%s])%s", body, typst_caption(fig), typst_label(fig))
    if align then -- Typst centres a figure's body: a show rule around this one figure moves it
      code = string.format("#[#show figure: set align(%s)\n%s\n]", align, code)
    end
    return pandoc.RawBlock("typst", code)
  end
  img.caption = pandoc.Inlines(alt)
  img.attributes["fig-alt"] = nil
  docx_width(img)
  if link then
    link.content = { img }
  end
  fig.content = { pandoc.Plain({ link or img }) }
  fig.caption = prefix_caption(fig.caption, "fig", fig.identifier)
  if align and FORMAT == "docx" and #fig.caption.long > 0 and fig.caption.long[1].content then
    fig.caption.long[1].content:insert(1, docx_mark("align-" .. align))
  elseif align then
    fig.classes:insert("quarto-figure-" .. align) -- Quarto's own class name; style.css aligns it
  end
  return fig
end

local function inline_image(img)
  if typst then
    return pandoc.RawInline("typst", "#box(" .. typst_image(img, alt_text(img)) .. ")")
  end
  img.caption = pandoc.Inlines(alt_text(img))
  img.attributes["fig-alt"] = nil
  docx_width(img)
  return img
end

-- tbl-colwidths="[75,25]" (percentages, as Quarto): the columns' widths in every format. DOCX
-- gets a bookmark in the first cell so docx.py keeps these widths instead of fitting the columns.
local function column_widths(tbl)
  local value = tbl.attributes["tbl-colwidths"]
  tbl.attributes["tbl-colwidths"] = nil
  if not value then
    return
  end
  local widths, total = {}, 0
  for number in value:gmatch("[%d.]+") do
    table.insert(widths, tonumber(number))
    total = total + tonumber(number)
  end
  if #widths ~= #tbl.colspecs or total <= 0 then
    return
  end
  for i, spec in ipairs(tbl.colspecs) do
    tbl.colspecs[i] = { spec[1], widths[i] / math.max(total, 100) }
  end
  local row = tbl.head.rows[1] or (tbl.bodies[1] and tbl.bodies[1].body[1])
  if FORMAT == "docx" and row and row.cells[1] then
    local cell = row.cells[1]
    if #cell.contents == 0 then
      cell.contents = pandoc.Blocks({ pandoc.Plain({}) })
    end
    if cell.contents[1].content then
      cell.contents[1].content:insert(1, docx_mark("colwidths"))
    end
  end
end

-- Typst: is the table (with its caption) shorter than 60 % of report.typ's text area, to be kept
-- whole there? Estimated from its text, as docx.py does for Word: measuring each table in Typst
-- (`measure()` in a show rule) took a third of the compile time and half its memory in a long
-- book. The page is the template's: A4, 2.4 cm side margins, 2.6 and 2.4 cm top and bottom;
-- table text 9.5 pt, cells inset 5 pt across and 3 pt down. Calibrated on the report's tables.
local TABLE_WIDTH_PT = 459.2 -- 21 cm - 2 x 2.4 cm
local KEPT_WHOLE_PT = 0.6 * 700.2 -- 60 % of 29.7 cm - 2.6 cm - 2.4 cm
local CHAR_PT = 4.6 -- an average letter at 9.5 pt
local CELL_INSET_PT = 10
local FIRST_LINE_PT, NEXT_LINE_PT = 12.8, 13.45 -- a one-line row; each further line of it
local LIST_INDENT_PT = 15

local function text_lines(text, width)
  local per_line = math.max(math.floor((width - CELL_INSET_PT) / CHAR_PT), 1)
  local lines, used = 1, 0
  for word in text:gmatch("%S+") do -- words wrap whole; one longer than a line is broken
    local length = utf8.len(word) or #word
    if used > 0 and used + 1 + length > per_line then
      lines, used = lines + 1, length
    else
      used = used + (used > 0 and 1 or 0) + length
    end
    while used > per_line do
      lines, used = lines + 1, used - per_line
    end
  end
  return lines
end

local function block_lines(blocks, width)
  local lines = 0
  for _, block in ipairs(blocks) do
    if block.t == "BulletList" or block.t == "OrderedList" then
      for _, item in ipairs(block.content) do
        lines = lines + block_lines(item, width - LIST_INDENT_PT)
      end
    else
      lines = lines + text_lines(pandoc.utils.stringify(block), width)
    end
  end
  return math.max(lines, 1)
end

-- Each row's cells, read from pandoc once (each `row.cells` hands Lua a new copy of the row):
-- a cell's blocks, its column span and its text.
local function table_rows(tbl)
  local rows = {}
  local function add(list)
    for _, row in ipairs(list) do
      local cells = {}
      for _, cell in ipairs(row.cells) do
        local contents = cell.contents
        table.insert(cells, { contents = contents, span = cell.col_span, text = pandoc.utils.stringify(contents) })
      end
      table.insert(rows, cells)
    end
  end
  add(tbl.head.rows)
  for _, body in ipairs(tbl.bodies) do
    add(body.head)
    add(body.body)
  end
  add(tbl.foot.rows)
  return rows
end

local function column_widths_pt(colspecs, rows)
  local widths, natural, total = {}, {}, 0
  for i, spec in ipairs(colspecs) do
    widths[i] = type(spec[2]) == "number" and spec[2] > 0 and spec[2] * TABLE_WIDTH_PT or nil
    local longest = 1
    for _, row in ipairs(rows) do
      local cell = row[i]
      longest = math.max(longest, cell and utf8.len(cell.text) or 1)
    end
    natural[i] = longest * CHAR_PT + CELL_INSET_PT
    total = total + natural[i]
  end
  for i = 1, #colspecs do -- auto columns: their longest cell, shared out when they do not fit
    widths[i] = widths[i] or (total <= TABLE_WIDTH_PT and natural[i] or natural[i] * TABLE_WIDTH_PT / total)
  end
  return widths
end

-- A cell of one paragraph (most are) is its text; lists and several blocks are counted block by block.
local function cell_lines(cell, width)
  local only = #cell.contents == 1 and cell.contents[1]
  if only and only.t ~= "BulletList" and only.t ~= "OrderedList" then
    return text_lines(cell.text, width)
  end
  return block_lines(cell.contents, width)
end

local function kept_whole(tbl)
  local rows = table_rows(tbl)
  local widths = column_widths_pt(tbl.colspecs, rows)
  local height = 0
  for _, row in ipairs(rows) do
    local lines, column = 1, 1
    for _, cell in ipairs(row) do
      local width = 0
      for i = column, column + cell.span - 1 do
        width = width + (widths[i] or 0)
      end
      lines = math.max(lines, cell_lines(cell, math.max(width, CELL_INSET_PT + CHAR_PT)))
      column = column + cell.span
    end
    height = height + FIRST_LINE_PT + NEXT_LINE_PT * (lines - 1)
  end
  if #tbl.caption.long > 0 then -- the caption's lines and its gap to the table
    height = height + 2 * 6.8 + NEXT_LINE_PT * (block_lines(tbl.caption.long, TABLE_WIDTH_PT + CELL_INSET_PT) - 1)
  end
  return height < KEPT_WHOLE_PT
end

-- The template keeps a `<underlag-short-table>` whole and starts a `<underlag-long-table>` only
-- with room for its caption, header and first rows (report.typ).
local function typst_table(tbl, opening)
  local label = kept_whole(tbl) and "underlag-short-table" or "underlag-long-table"
  return { pandoc.RawBlock("typst", opening), tbl, pandoc.RawBlock("typst", "] <" .. label .. ">") }
end

local function table_(tbl)
  if typst then -- its references first: Typst's table is measured by its text (kept_whole)
    tbl = tbl:walk({ Cite = cite })
  end
  column_widths(tbl)
  if #tbl.caption.long == 0 then
    if typst then -- Typst would count it as a numbered table figure
      return typst_table(tbl, "#[#show figure: set figure(numbering: none)")
    end
    return tbl
  end
  if not typst then
    tbl.caption = prefix_caption(tbl.caption, "tbl", tbl.identifier)
    return tbl
  end
  return typst_table(tbl, "#[")
end

local function typst_math(tex)
  local code = pandoc.write(pandoc.Pandoc({ pandoc.Plain({ pandoc.Math("InlineMath", tex) }) }), "typst")
  return (code:gsub("%s+$", ""))
end

-- A numbered equation: Typst shows the number given here (equations are numbered in chapters
-- like figures), with the TeX source as its alt text (PDF/UA); DOCX and HTML get the number
-- after the formula, in a span that carries the label.
local function equation(para)
  local id, math = equation_label(para)
  if not id then
    return nil
  end
  local tex = math.text
  if typst then
    return pandoc.RawBlock("typst", string.format('#math.equation(block: true, numbering: _ => "(%s)", alt: %s, %s.body) <%s>',
      numbers[id], typst_string(tex), typst_math(tex), id))
  end
  local anchors = pandoc.Inlines(para.content):filter(function(inline)
    return inline.t == "Span" and #inline.content == 0
  end)
  return pandoc.Para(anchors .. { pandoc.Span({ math, pandoc.Space(), pandoc.Str("(" .. numbers[id] .. ")") },
    { id = id, class = "quarto-equation" }) })
end

-- Typst's PDF/UA export refuses a formula without alt text: every other formula gets its TeX
-- source (`;` ends the embedded code, so text right after the formula stays text).
local function math_alt(math)
  if typst then
    return pandoc.RawInline("typst", string.format("#math.equation(block: %s, alt: %s, %s.body);",
      tostring(math.mathtype == "DisplayMath"), typst_string(math.text), typst_math(math.text)))
  end
end

-- Typst: a numbered chapter's heading is labelled for report.typ's chapter start: a part (the
-- first chapter, the first appendix) opens a page, any other chapter needs room. Decided here,
-- where the chapters are counted: a heading counter read in the template's heading show rule
-- cost Typst an extra layout pass (a sixth of the compile time of a long book).
local function typst_chapter(h, opens_part)
  local label = opens_part and "underlag-opens-part" or "underlag-chapter"
  return { pandoc.RawBlock("typst", "#["), h, pandoc.RawBlock("typst", "] <" .. label .. ">") }
end

local function header(h)
  local number = h.attributes.number
  local opens_part = h.attributes["opens-part"] ~= nil
  h.attributes.number = nil
  h.attributes["opens-part"] = nil
  h.attributes.appendix = nil
  h.attributes["chapter-source"] = nil
  if typst and number and h.level == 1 then
    return typst_chapter(h, opens_part)
  end
  if number and docx then
    local mark = pandoc.Span(number, { ["custom-style"] = "Heading Number" })
    local opening, closing = "", ""
    if h.identifier ~= "" then -- a REF \w to it gives the heading's number
      bookmark_count = bookmark_count + 1
      opening = string.format('<w:bookmarkStart w:id="%d" w:name="%s"/>', bookmark_count, bookmark_name(h.identifier))
      closing = string.format('<w:bookmarkEnd w:id="%d"/>', bookmark_count)
    end
    h.content = pandoc.Inlines({ mark, pandoc.Space(), pandoc.RawInline("openxml", opening) }) .. h.content
      .. { pandoc.RawInline("openxml", closing) }
  elseif number and not typst then
    h.content = pandoc.Inlines({ pandoc.Span(number, { class = "header-section-number" }), pandoc.Space() })
      .. h.content
  end
  return h
end

-- A reference in the text, after the blocks: its words may hold an unnumbered section's title, whose
-- images and formulas are treated as the text's own.
local function cite_in_text(el)
  local out = cite(el)
  return out and out:walk({ Image = inline_image, Math = math_alt })
end

-- Figures before lone images: a figure's image must still be an Image when it is handled. The
-- references in the text are resolved in the same walk as the images (one walk over every inline
-- less): figures and tables resolve their own before they are written.
return {
  { Pandoc = collect },
  { Figure = figure, Table = table_, Header = header, Para = equation },
  { Image = inline_image, Math = math_alt, Cite = cite_in_text },
}
