-- ryz014 shared inventory, version 2: secrets sealed to the operator (`provision --seal-to age1…`).
-- A sealed record holds the secret only as an armored age file sealed to the operator's X25519
-- recipient; psk_hex then keeps only its first 4 hex digits in clear (what lists show and what
-- the held-key check compares with the modem), so the database never holds that secret in clear.
ALTER TABLE devices ADD COLUMN psk_sealed TEXT;
ALTER TABLE devices ADD CONSTRAINT devices_sealed_keeps_only_a_prefix CHECK (
    psk_sealed IS NULL
    OR (psk_sealed LIKE '-----BEGIN AGE ENCRYPTED FILE-----%' AND length(psk_hex) <= 4)
);
