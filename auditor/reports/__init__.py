"""Reports built across apps (compare, diff) and the scan the commands share.

`auditor.formats` renders one Report in one format, with the pieces the rich formats share (the
plain-language story, the score bars); this package sits above it and holds what goes beyond one
Report: views over several apps or two versions of one app. Imports go one way, reports -> formats,
never back.
"""
