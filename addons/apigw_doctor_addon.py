"""`mitmdump -s addons/apigw_doctor_addon.py` from a checkout: the installed script (launch.ADDON_SCRIPT)."""

from apigw_doctor.addon import make_addons

addons = make_addons()  # fresh instances on every (re)load of this script
