-- Sign-in history (nhật ký đăng nhập): every successful sign-in of an
-- account, so its owner can see when and where it was used (Decree 69/2024
-- keeps a permanent usage log). No address or device data is kept.
CREATE TABLE eid_signins (
    id {{autoinc}},
    pin TEXT NOT NULL,
    at TEXT NOT NULL,
    level INTEGER NOT NULL,
    amr TEXT NOT NULL,
    channel TEXT NOT NULL
);
CREATE INDEX eid_signins_pin ON eid_signins (pin, id);
