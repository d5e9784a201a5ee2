-- Quarto callouts (`::: {.callout-note}` …) for every format, with default titles in the
-- book's language (Quarto's callout-<kind>-title keys, through UNDERLAG_SETTINGS).
-- The title comes from `title="…"`, else from a first heading inside, else the default.
local settings = pandoc.json.decode(os.getenv("UNDERLAG_SETTINGS") or "{}")
local default_titles = settings.callout or {
  note = "Note",
  tip = "Tip",
  important = "Important",
  warning = "Warning",
  caution = "Caution",
}

local function kind_of(div)
  for _, class in ipairs(div.classes) do
    local kind = class:match("^callout%-(%a+)$")
    if kind and default_titles[kind] then
      return kind
    end
  end
end

-- A title read here was not in the document whose unpaired quotes the build made Swedish
-- (engine/assemble.py swedish_marks): its own are made so here, as there.
local function swedish_marks(blocks)
  if not (settings.lang or ""):match("^sv") then
    return blocks
  end
  return blocks:walk({
    Str = function(str)
      return pandoc.Str((str.text:gsub("“", "”"):gsub("‘", "’")))
    end,
  })
end

local function take_title(div, kind)
  local content = pandoc.Blocks(div.content)
  if div.attributes.title then
    return pandoc.utils.blocks_to_inlines(swedish_marks(pandoc.read(div.attributes.title, "markdown").blocks)), content
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

-- A callout with a cross-reference id (`#nte-x`, numbered by crossref.lua) is titled as Quarto
-- titles it: "Obs 1.2: Its own title", or "Obs 1.2" without one.
local function numbered(title, div, kind)
  local number = div.attributes["callout-number"]
  if not number then
    return title
  end
  local label = pandoc.Inlines({ pandoc.Str(default_titles[kind]), pandoc.Space(), pandoc.Str(number) })
  if div.attributes.title or (div.content[1] and div.content[1].t == "Header") then
    return label .. { pandoc.Str(":"), pandoc.Space() } .. title
  end
  return label
end

local function callout(div)
  local kind = kind_of(div)
  if not kind then
    return nil
  end
  local title, content = take_title(div, kind)
  title = numbered(title, div, kind)
  local id = div.identifier
  if FORMAT == "typst" then
    local opening = string.format('#callout(kind: "%s", title: [%s])[', kind, typst(title))
    local closing = id ~= "" and ("] <" .. id .. ">") or "]"
    return pandoc.Blocks({ pandoc.RawBlock("typst", opening) }) .. content .. { pandoc.RawBlock("typst", closing) }
  end
  if FORMAT == "docx" then
    -- one paragraph style per kind ("Callout Warning Title", "Callout Warning"): the reference
    -- document gives each its shading and border, so the paragraphs join into one box
    local style = "Callout " .. kind:gsub("^%l", string.upper)
    local heading = pandoc.Div({ pandoc.Para(title) }, { ["custom-style"] = style .. " Title" })
    return pandoc.Div({ heading, pandoc.Div(content, { ["custom-style"] = style }) }, { id = id })
  end
  local heading = pandoc.Div({ pandoc.Para({ pandoc.Strong(title) }) }, { class = "callout-title" })
  return pandoc.Div({ heading, pandoc.Div(content, { class = "callout-body" }) },
    { id = id, class = "callout callout-" .. kind, role = "note" })
end

return { { Div = callout } }
