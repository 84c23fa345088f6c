"""``mig demo``: a synthetic legacy 住民記録 export, its mapping and 外字 registry, run end to end."""
