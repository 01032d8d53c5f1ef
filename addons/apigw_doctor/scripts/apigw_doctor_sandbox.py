"""`mitmdump -s .../apigw_doctor/scripts/apigw_doctor_sandbox.py`: send the sandbox's AWS hosts to the local sandbox."""

from apigw_doctor.sandbox.redirect import make_addons

addons = make_addons()
