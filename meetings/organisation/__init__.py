"""The organisation around the communities: streets (街道) and their staff,
grids (网格) inside a community, units (单位) serving communities."""
