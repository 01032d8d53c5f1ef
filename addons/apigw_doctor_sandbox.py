"""`mitmdump -s addons/apigw_doctor_sandbox.py` from a checkout: the sandbox redirect (launch.SANDBOX_SCRIPT)."""

from apigw_doctor.sandbox.redirect import make_addons

addons = make_addons()  # fresh instances on every (re)load of this script
