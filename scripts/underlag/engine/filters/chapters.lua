-- Unwrap the `.chapter` divs that the assembler puts around each chapter.
-- Image paths are resolved from the chapter's folder to paths from the project root
-- (where pandoc runs, and Typst's `root`), images without extension get the format's one,
-- and the headings of appendix chapters are marked so numbering can switch to letters.
local appendix_started = false
local extension = FORMAT == "docx" and ".png" or ".svg"

local function normalize(path)
  local parts = {}
  for part in path:gmatch("[^/]+") do
    if part == ".." then
      table.remove(parts)
    elseif part ~= "." then
      table.insert(parts, part)
    end
  end
  return "/" .. table.concat(parts, "/")
end

local function resolve(src, chapter_dir)
  if src:match("^%a+://") or src:match("^data:") then
    return src
  end
  local from_root = src:sub(1, 1) == "/" and normalize(src) or normalize(chapter_dir .. "/" .. src)
  local _, ext = pandoc.path.split_extension(from_root)
  if ext == "" then
    from_root = from_root .. extension
  end
  if FORMAT == "typst" then
    return from_root -- Typst reads "/x" from its project root
  end
  return from_root:sub(2) -- pandoc runs in the project root; no absolute path leaks into the output
end

local function chapter(div)
  local source = div.attributes.source
  local chapter_dir = pandoc.path.directory(source)
  local appendix = div.attributes.appendix == "true"
  local blocks = div.content:walk({
    Image = function(img)
      img.src = resolve(img.src, chapter_dir)
      return img
    end,
    Header = function(h)
      h.attributes["chapter-source"] = source
      if appendix then
        h.attributes.appendix = "true"
      end
      return h
    end,
  })
  if appendix and not appendix_started and FORMAT == "typst" then
    appendix_started = true -- Typst numbers the headings: switch it to letters once
    blocks:insert(1, pandoc.RawBlock("typst",
      '#counter(heading).update(0)\n#set heading(numbering: "A.1")\n#state("appendix", false).update(true)'))
  end
  return blocks
end

-- The assembler puts the chapters at the top level: a loop over the document's blocks finds them,
-- and only each chapter's own content is walked (a Div filter walked the whole book once more).
local function unwrap(doc)
  local blocks = pandoc.Blocks({})
  for _, block in ipairs(doc.blocks) do
    if block.t == "Div" and block.classes:includes("chapter") then
      blocks:extend(chapter(block))
    else
      blocks:insert(block)
    end
  end
  doc.blocks = blocks
  return doc
end

return { { Pandoc = unwrap } }
