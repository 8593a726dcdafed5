-- Trust that ended cannot be given back.
SELECT 1;
