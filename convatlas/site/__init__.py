"""The static site: URL layout, Jinja rendering, images, plots and one builder per kind of page.

Nothing here imports torch: page builders take tables and uint8 arrays.
"""
