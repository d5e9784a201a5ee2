-- Quarto's code block attributes, for every format.
--
-- `filename="a.py"` is shown as a title above the block (Quarto's `.code-with-filename`).
-- Code annotations: a line ending in a comment with `<n>` (`# <1>`, `// <1>`, `-- <1>`,
-- `<!-- <1> -->`) loses the marker, which becomes a numbered mark at the end of the line (①, as
-- Quarto's HTML and PDF show it), and the ordered list right after the block is kept as the block's
-- annotation list (class `code-annotation`), its items numbered as the marks.
local circled = { "①", "②", "③", "④", "⑤", "⑥", "⑦", "⑧", "⑨", "⑩",
  "⑪", "⑫", "⑬", "⑭", "⑮", "⑯", "⑰", "⑱", "⑲", "⑳" }
local comment_starts = { "#", "//", "%-%-", "%%", ";", "<!%-%-" }

local function mark(number)
  return circled[number] or ("(" .. number .. ")")
end

-- The line without its annotation marker, and the marker's number (nil when there is none).
local function split_marker(line)
  for _, start in ipairs(comment_starts) do
    local code, number = line:match("^(.-)%s*" .. start .. "%s*<(%d+)>%s*%-?%-?>?%s*$")
    if number then
      return code, tonumber(number)
    end
  end
  return line, nil
end

local function annotate(block)
  local lines, found = {}, false
  for line in (block.text .. "\n"):gmatch("(.-)\n") do
    local code, number = split_marker(line)
    if number then
      found = true
      line = code .. (code:match("%S") and " " or "") .. mark(number)
    end
    table.insert(lines, line)
  end
  if found then
    block.text = table.concat(lines, "\n")
  end
  return found
end

local function with_filename(block)
  local name = block.attributes.filename
  if not name then
    return block
  end
  block.attributes.filename = nil
  local title = pandoc.Div({ pandoc.Plain({ pandoc.Strong({ pandoc.Code(name) }) }) },
    { class = "code-with-filename-file" })
  return pandoc.Div({ title, block }, { class = "code-with-filename" })
end

local function has_code(list)
  for _, block in ipairs(list) do
    if block.t == "CodeBlock" then
      return true
    end
  end
  return false
end

local function blocks(list)
  if not has_code(list) then
    return nil -- left as it is: a list handed back is read into pandoc again, and most hold no code
  end
  local out = pandoc.Blocks({})
  local annotated = false
  for _, block in ipairs(list) do
    if block.t == "CodeBlock" then
      annotated = annotate(block)
      out:insert(with_filename(block))
    elseif annotated and block.t == "OrderedList" then
      annotated = false
      out:insert(pandoc.Div({ block }, { class = "code-annotation" }))
    else
      annotated = false
      out:insert(block)
    end
  end
  return out
end

-- Every list of blocks (each table cell's too) handed to Lua costs time: a book without code
-- blocks, found by a walk that hands over only code blocks, is left as it is.
local function code_blocks(doc)
  local any = false
  doc:walk({
    CodeBlock = function()
      any = true
    end,
  })
  if any then
    return doc:walk({ Blocks = blocks })
  end
end

return { { Pandoc = code_blocks } }
