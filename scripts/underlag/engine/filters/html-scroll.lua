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

local function scroll_table(tbl)
  return region({ tbl }, tbl.caption.long, "table-scroll", "Tabell")
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
