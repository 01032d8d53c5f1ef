"""`mitmdump -s .../apigw_doctor/scripts/apigw_doctor_addon.py`: the doctor, its commands and the evidence exporter."""

from apigw_doctor.addon import make_addons

addons = make_addons()
