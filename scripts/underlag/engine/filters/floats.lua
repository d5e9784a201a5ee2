-- Quarto's other ways of writing a figure or a table, turned into pandoc's own Figure and Table
-- before crossref.lua numbers them:
--
-- * a figure div `::: {#fig-x}` (content, then the caption as the div's last paragraph), with
--   subfigures when it holds several images or images with their own `#fig-` ids
--   (`layout-ncol=2`): each becomes a Figure inside the main one, captioned by its alt text;
-- * a table div `::: {#tbl-x}` (a table, then the caption as the last paragraph);
-- * a linked figure `[![Caption](bild.png){#fig-x}](https://…)`: a figure whose image is a link.

-- The DOCX's review anchors (render/anchors.py) are empty spans and marker paragraphs: they
-- do not count as content here.
local function is_anchor(inline)
  return inline.t == "Span" and #inline.content == 0
end

local function is_marker(block)
  return block.t == "Para" and #block.content > 0 and pandoc.Inlines(block.content):find_if(function(inline)
    return not is_anchor(inline)
  end) == nil
end

local function is_caption(block)
  return block and (block.t == "Para" or block.t == "Plain")
end

-- The div's content and its caption (Quarto: the last paragraph, when there is other content).
local function split_caption(div)
  local content = pandoc.Blocks(div.content)
  local caption = pandoc.Blocks({})
  if #content > 1 and is_caption(content[#content]) then
    caption = pandoc.Blocks({ pandoc.Plain(content[#content].content) })
    content:remove(#content)
  end
  return content, caption
end

-- Every image of the content, in order (an implicit figure's image counts as one).
local function images_of(content)
  local found = {}
  content:walk({
    Image = function(img)
      table.insert(found, img)
    end,
  })
  return found
end

local function only_images(content)
  local alone = true
  for _, block in ipairs(content) do
    if block.t == "Figure" then
      -- an image alone in its paragraph: pandoc's implicit figure
    elseif block.t == "Para" or block.t == "Plain" then
      for _, inline in ipairs(block.content) do
        if inline.t ~= "Image" and inline.t ~= "SoftBreak" and inline.t ~= "Space" and inline.t ~= "LineBreak"
            and not is_anchor(inline) then
          alone = false
        end
      end
    else
      alone = false
    end
  end
  return alone
end

local function subfigure(img)
  local id = img.identifier
  img.identifier = ""
  local caption = #img.caption > 0 and { pandoc.Plain(img.caption) } or {}
  return pandoc.Figure({ pandoc.Plain({ img }) }, caption, { id = id })
end

-- The content's images as figures: an implicit figure (an image alone in its paragraph, which
-- carries the image's id) as it is, the images of a paragraph each as one.
local function subfigures_of(content)
  local figures = pandoc.Blocks({})
  for _, block in ipairs(content) do
    if block.t == "Figure" then
      figures:insert(block)
    elseif block.content then
      for _, inline in ipairs(block.content) do
        if inline.t == "Image" then
          figures:insert(subfigure(inline))
        end
      end
    end
  end
  return figures
end

local function figure_div(div)
  local content, caption = split_caption(div)
  -- pairs in the div's own order (a Lua table would lose it, and two builds would differ)
  local attributes = {}
  for key, value in pairs(div.attributes) do
    table.insert(attributes, { key, value })
  end
  local attr = pandoc.Attr(div.identifier, div.classes, attributes)
  if #images_of(content) == 0 or not only_images(content) then
    return pandoc.Figure(content, caption, attr) -- any other content: a figure all the same
  end
  local figures = subfigures_of(content)
  local labelled = false
  for _, fig in ipairs(figures) do
    labelled = labelled or fig.identifier:match("^fig%-") ~= nil
  end
  if #figures == 1 and not labelled then
    return pandoc.Figure(figures[1].content, caption, attr)
  end
  attr.classes:insert("subfigures")
  return pandoc.Figure(figures, caption, attr)
end

local function table_div(div)
  local content, caption = split_caption(div)
  local tables, markers = {}, pandoc.Blocks({})
  for _, block in ipairs(content) do
    if block.t == "Table" then
      table.insert(tables, block)
    elseif is_marker(block) then
      markers:insert(block)
    else
      return nil -- not a table alone: left as a div (assemble.py's checks name it)
    end
  end
  if #tables ~= 1 then
    return nil
  end
  local tbl = tables[1]
  tbl.identifier = div.identifier
  if #caption > 0 then
    tbl.caption = { long = caption }
  end
  for key, value in pairs(div.attributes) do
    tbl.attributes[key] = value
  end
  return markers .. { tbl }
end

local function float_div(div)
  if div.identifier:match("^fig%-") then
    return figure_div(div)
  end
  if div.identifier:match("^tbl%-") then
    return table_div(div)
  end
end

-- `[![Caption](bild.png){#fig-x}](url)` alone in a paragraph: Quarto's linked figure.
local function linked_figure(para)
  local others = 0 -- most paragraphs are text: known without copying their inlines
  for _, inline in ipairs(para.content) do
    if not is_anchor(inline) then
      others = others + 1
      if others > 1 or inline.t ~= "Link" then
        return nil
      end
    end
  end
  local inlines = pandoc.Inlines(para.content):filter(function(inline)
    return not is_anchor(inline)
  end)
  if #inlines ~= 1 or inlines[1].t ~= "Link" then
    return nil
  end
  local link = inlines[1]
  if #link.content ~= 1 or link.content[1].t ~= "Image" or #link.content[1].caption == 0 then
    return nil
  end
  local img = link.content[1]
  local id = img.identifier
  img.identifier = ""
  return pandoc.Figure({ pandoc.Plain({ link }) }, { pandoc.Plain(img.caption) }, { id = id })
end

return { { Div = float_div, Para = linked_figure } }
