-- Numbering and cross-references with Swedish labels, the Quarto way.
--
-- Sections are numbered in document order (appendix chapters get letters); every captioned
-- figure and table is numbered within its chapter, in its own series ("Figur 3.2", as Quarto
-- books do). `@fig-x`, `@tbl-x`,
-- `@sec-x` become "figur 3", "tabell 2", "avsnitt 4.1"; `@Fig-x` is capitalised;
-- `[-@fig-x]` gives the number alone, so `[Figur -@fig-x]` reads "Figur 3".
-- Typst numbers its own headings, figures and tables: there references become Typst
-- `ref`s, so the PDF cannot disagree with itself. For DOCX and HTML the numbers are
-- written into headings, captions and links here.
local labels = { fig = "figur", tbl = "tabell", sec = "avsnitt" }
local caption_labels = { fig = "Figur", tbl = "Tabell" }
local numbers = {}
local typst = FORMAT == "typst"

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

local function caption_prefix(kind, id)
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
    -- an image in the caption (in a footnote there) is written here, not by the Image pass: give it its alt
    local long = pandoc.Blocks(fig.caption.long):walk({
      Image = function(inner)
        return pandoc.RawInline("typst", "#box(" .. typst_image(inner, alt_text(inner)) .. ")")
      end,
    })
    local caption = pandoc.write(pandoc.Pandoc(long), "typst"):gsub("%s+$", "")
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
