-- HTML only: what may be wider than a phone's screen sits in a region that scrolls sideways.
-- The region is focusable (tabindex 0), so a keyboard user can scroll it, and named by the
-- caption, so a screen reader says what it holds.
-- * A table: the region wraps it; the table keeps its table semantics (a table made
--   display: block loses them in some screen readers).
-- * A figure's image: the region wraps the image inside the figure, so the caption stays in view
--   while a chart drawn for print is shown at a size where its text is legible (style.css).
local function region(blocks, caption, class, fallback)
  local label = pandoc.utils.stringify(caption)
  -- a list of pairs, not a Lua table: the attributes keep this order, so two builds are the same bytes
  local attributes = { { "role", "region" }, { "tabindex", "0" }, { "aria-label", label ~= "" and label or fallback } }
  return pandoc.Div(blocks, pandoc.Attr("", { class }, attributes))
end

-- An ISO date in a table cell never breaks at its hyphens ("2024-11-" over "28" in a narrow column).
local ISO_DATE = "^%d%d%d%d%-%d%d%-%d%d[%.,;:%)]?$"

local function whole_dates(tbl)
  return tbl:walk({
    Str = function(str)
      if str.text:match(ISO_DATE) then
        return pandoc.Span({ str }, pandoc.Attr("", { "date" }))
      end
    end,
  })
end

-- A first column of short names (ids, numbers, dates: "MS1", "R4", "Alt 2") stays in view while
-- the table scrolls on a phone (style.css); a column of long names would cover the screen.
local SHORT_NAME = 14

local function short_first_column(tbl)
  local rows = {}
  for _, body in ipairs(tbl.bodies) do
    for _, row in ipairs(body.body) do
      rows[#rows + 1] = row
    end
  end
  for _, row in ipairs(rows) do
    local first = row.cells[1]
    if first == nil or utf8.len(pandoc.utils.stringify(first.contents)) > SHORT_NAME then
      return false
    end
  end
  return #rows > 0
end

local function scroll_table(tbl)
  local div = region({ whole_dates(tbl) }, tbl.caption.long, "table-scroll", "Tabell")
  if short_first_column(tbl) then
    div.classes:insert("first-column-stays")
  end
  return div
end

local function only_images(blocks)
  local found = false
  for _, block in ipairs(blocks) do
    if block.t ~= "Plain" and block.t ~= "Para" then
      return false
    end
    for _, inline in ipairs(block.content) do
      if inline.t == "Image" then
        found = true
      elseif inline.t ~= "Space" and inline.t ~= "SoftBreak" then
        return false
      end
    end
  end
  return found
end

local function scroll_figure(fig)
  if not only_images(fig.content) then -- subfigures and figures of text fit as they are
    return nil
  end
  fig.content = { region(fig.content, fig.caption.long, "figure-scroll", "Figur") }
  return fig
end

return { { Table = scroll_table, Figure = scroll_figure } }
