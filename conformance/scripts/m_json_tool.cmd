-m
json.tool
--sort-keys
