-- Numbering and cross-references with Swedish labels, the Quarto way.
--
-- Sections are numbered in document order (appendix chapters get letters); every captioned
-- figure and table is numbered within its chapter, in its own series ("Figur 3.2", as Quarto
-- books do). `@fig-x`, `@tbl-x`,
-- `@sec-x` become "figur 3", "tabell 2", "avsnitt 4.1"; `@Fig-x` is capitalised;
-- `[-@fig-x]` gives the number alone, so `[Figur -@fig-x]` reads "Figur 3".
-- Typst numbers its own headings, figures and tables: there references become Typst
-- `ref`s, so the PDF cannot disagree with itself. For HTML the numbers are written into
-- headings, captions and links here. For DOCX they become Word's own machinery, so a writer
-- who inserts a chapter in Word gets every number right again: a caption's number is a SEQ
-- field (after a STYLEREF to the chapter number) inside a bookmark, a reference is a REF field
-- to that bookmark, and a heading's number is marked (style "Heading Number") for
-- render/docx_fields.py to replace by list numbering linked to the heading styles. Every field
-- carries today's number as its result, so the document reads right before any update.
local labels = { fig = "figur", tbl = "tabell", sec = "avsnitt" }
local caption_labels = { fig = "Figur", tbl = "Tabell" }
local numbers = {}
local typst = FORMAT == "typst"
local docx = FORMAT == "docx"
local bookmark_count = 900000 -- far above the ids pandoc gives its own bookmarks

local function capitalise(s)
  return (s:gsub("^%l", string.upper))
end

local function letter(n)
  return string.char(64 + n)
end

local function collect(doc)
  -- numbers every target and returns the document with the headings' numbers attached
  local counters = { 0, 0, 0, 0, 0, 0 }
  local in_appendix = false
  local chapter = nil -- the current chapter's number, e.g. "3" or "A"
  local count = { fig = 0, tbl = 0 }
  local function next_number(kind)
    count[kind] = count[kind] + 1
    return chapter and (chapter .. "." .. count[kind]) or tostring(count[kind])
  end
  return doc:walk({
    traverse = "topdown",
    Header = function(h)
      if h.attributes.appendix == "true" and not in_appendix then
        in_appendix = true
        counters[1] = 0
      end
      if h.level == 1 then
        count = { fig = 0, tbl = 0 }
      end
      if h.classes:includes("unnumbered") then
        return nil
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
      if h.level == 1 then
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
local function number_fields(kind, id)
  local number = numbers[id]
  local series = "SEQ " .. caption_labels[kind] .. " \\* ARABIC"
  local chapter, n = number:match("^(.-)%.(%d+)$")
  if chapter then
    -- LibreOffice ignores \s: render/docx_word.py puts a hidden reset (SEQ … \r 0 \h) in each Heading 1
    return field("STYLEREF 1 \\s", chapter) .. text_run(".") .. field(series .. " \\s 1", n)
  end
  return field(series, number)
end

local function caption_prefix(kind, id)
  if docx then
    return { pandoc.RawInline("openxml", text_run(caption_labels[kind] .. " ") .. bookmarked(id, number_fields(kind, id))
      .. text_run(": ")) }
  end
  return { pandoc.Str(caption_labels[kind]), pandoc.Space(), pandoc.Str(numbers[id] .. ":"), pandoc.Space() }
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
  if docx then
    -- \w: the heading's number in full ("4.1"); \h: a link, as the writer's other references
    local instruction = "REF " .. bookmark_name(key) .. (kind:lower() == "sec" and " \\w \\h" or " \\h")
    local label = bare and (prefix ~= "" and (prefix .. "\u{a0}") or "") or (word .. "\u{a0}")
    return pandoc.RawInline("openxml", text_run(label) .. field(instruction, numbers[key]))
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
      out:extend({ pandoc.Str(i == #el.citations and " och" or ","), pandoc.Space() })
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
      return { pandoc.RawBlock("typst", "#[#set figure(numbering: none)"), tbl, pandoc.RawBlock("typst", "]") }
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

-- Figures before lone images: a figure's image must still be an Image when it is handled.
return {
  { Pandoc = collect },
  { Figure = figure, Table = table_, Header = header, Cite = cite },
  { Image = inline_image },
}
