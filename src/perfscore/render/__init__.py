"""Everything a person reads: results as text, JSON and markdown (:mod:`.text`), the
filled-in 评分表 (:mod:`.scoresheet`), the diff as one HTML page (:mod:`.diff_page`).
Renderers compute nothing; they format what the engine and the authoring tools return."""
