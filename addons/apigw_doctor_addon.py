"""`mitmdump -s addons/apigw_doctor_addon.py`: loads the apigw-doctor addons from the package beside this file."""

from apigw_doctor.addon import addons  # noqa: F401
