function developers() return {{heading = _("Musicians"),entries = {{members = {"Kristian",},},},},} end
