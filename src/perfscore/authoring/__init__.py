"""Tools for rubric authors: golden cases (:mod:`.cases`, public as ``perfscore.testing``),
the property hunt (:mod:`.check`), the impact of a change (:mod:`.diff`), JSON Schemas
(:mod:`.schema`) and input forms (:mod:`.template`)."""
