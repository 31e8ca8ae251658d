-- stallmig:no-transaction
VACUUM t;
