"""The site directory (名录库): sites, their tree and org units, imports and exports."""
