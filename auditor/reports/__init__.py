"""Reports built across apps (compare, diff) and the pieces the rich formats share.

`auditor.formats` renders one Report in one format; this package holds what goes beyond that:
views over several apps or two versions of one app, the plain-language reading of a result
that markdown and HTML both tell, and the inline SVG chart.
"""
