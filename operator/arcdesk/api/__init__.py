"""The API model and schema every component shares: names, labels, typed views of
Course / Seat / DesktopProfile and observed objects, conditions, schedules, credentials,
offline validation against the CRD files. Pure (the CRD and data files aside)."""
