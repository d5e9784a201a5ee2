-- Quarto callouts (`::: {.callout-note}` …) for every format, with Swedish default titles.
-- The title comes from `title="…"`, else from a first heading inside, else the default.
local default_titles = {
  note = "Obs",
  tip = "Tips",
  important = "Viktigt",
  warning = "Varning",
  caution = "Försiktighet",
}

local function kind_of(div)
  for _, class in ipairs(div.classes) do
    local kind = class:match("^callout%-(%a+)$")
    if kind and default_titles[kind] then
      return kind
    end
  end
end

local function take_title(div, kind)
  local content = pandoc.Blocks(div.content)
  if div.attributes.title then
    return pandoc.utils.blocks_to_inlines(pandoc.read(div.attributes.title, "markdown").blocks), content
  end
  if content[1] and content[1].t == "Header" then
    local title = content[1].content
    content:remove(1)
    return title, content
  end
  return pandoc.Inlines(default_titles[kind]), content
end

local function typst(inlines)
  return pandoc.write(pandoc.Pandoc({ pandoc.Plain(inlines) }), "typst"):gsub("%s+$", "")
end

local function callout(div)
  local kind = kind_of(div)
  if not kind then
    return nil
  end
  local title, content = take_title(div, kind)
  if FORMAT == "typst" then
    local opening = string.format('#callout(kind: "%s", title: [%s])[', kind, typst(title))
    return pandoc.Blocks({ pandoc.RawBlock("typst", opening) }) .. content .. { pandoc.RawBlock("typst", "]") }
  end
  if FORMAT == "docx" then
    -- one paragraph style per kind ("Callout Warning Title", "Callout Warning"): the reference
    -- document gives each its shading and border, so the paragraphs join into one box
    local style = "Callout " .. kind:gsub("^%l", string.upper)
    local heading = pandoc.Div({ pandoc.Para(title) }, { ["custom-style"] = style .. " Title" })
    return pandoc.Div({ heading, pandoc.Div(content, { ["custom-style"] = style }) })
  end
  local heading = pandoc.Div({ pandoc.Para({ pandoc.Strong(title) }) }, { class = "callout-title" })
  return pandoc.Div({ heading, pandoc.Div(content, { class = "callout-body" }) },
    { class = "callout callout-" .. kind, role = "note" })
end

return { { Div = callout } }
