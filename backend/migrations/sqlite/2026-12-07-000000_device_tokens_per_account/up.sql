-- Device tokens used to be shared by every account signed in on one browser, so a token
-- planted in a browser could carry another account's trust. From now on each token is made
-- for one account; trust that rested on a shared token ends (the next sign-in asks the code).
UPDATE known_devices SET trusted_until = NULL
WHERE token_hash IN (
    SELECT token_hash FROM known_devices GROUP BY token_hash HAVING COUNT(*) > 1
);
