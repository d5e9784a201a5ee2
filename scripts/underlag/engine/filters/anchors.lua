-- Source anchors for the DOCX review round trip (render/anchors.py writes them into the Markdown).
-- Blocks carry an empty span `[]{#underlag_N}` that the DOCX writer makes a zero-width bookmark.
-- A table is preceded by a marker paragraph `[]{#underlag_N .underlag-table}`: it is removed here
-- and every paragraph in the table's cells gets its own anchor `underlag_N_K`. A figure's image
-- gets none: anything but the bare image turns pandoc's figure into a table (review reads an
-- image as belonging to the caption after it). The preview's HTML (metadata `underlag-source-map`)
-- gets the same anchors, which render/anchors.py turns into `data-source` attributes; other
-- formats never see the markers, and are not walked at all (a walk of every block list costs time
-- at every build even when it changes nothing).

local function anchor(name)
  return pandoc.Span({}, { id = name })
end

local function table_marker(block)
  if block.t == "Para" and #block.content == 1 and block.content[1].t == "Span"
      and block.content[1].classes:includes("underlag-table") then
    return block.content[1].identifier
  end
end

local function anchor_cells(tbl, base)
  local count = 0
  local function mark(block)
    count = count + 1
    block.content:insert(1, anchor(base .. "_" .. count))
    return block
  end
  local function cells(rows)
    for _, row in ipairs(rows) do
      for _, cell in ipairs(row.cells) do
        if #cell.contents == 0 then
          cell.contents = pandoc.Blocks({ pandoc.Plain({}) })
        end
        cell.contents = cell.contents:walk({ Para = mark, Plain = mark })
      end
    end
  end
  cells(tbl.head.rows)
  for _, body in ipairs(tbl.bodies) do
    cells(body.head)
    cells(body.body)
  end
  cells(tbl.foot.rows)
  return tbl
end

local function blocks(list)
  local out = pandoc.Blocks({})
  local pending = nil
  for _, block in ipairs(list) do
    local name = table_marker(block)
    if name then
      pending = name
    else
      if pending and block.t == "Table" then
        block = anchor_cells(block, pending)
      end
      pending = nil
      out:insert(block)
    end
  end
  return out
end

local function document(doc)
  if FORMAT == "docx" or (FORMAT:match("html") ~= nil and doc.meta["underlag-source-map"] == true) then
    return doc:walk({ Blocks = blocks })
  end
end

return { { Pandoc = document } }
