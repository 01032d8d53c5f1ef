from apigw_doctor.sandbox.redirect import addons  # noqa: F401 - `mitmdump -s` entry for the sandbox redirect
