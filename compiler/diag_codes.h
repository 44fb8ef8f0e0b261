/*
 * diag_codes.h - every diagnostic polc can report, in one X-macro table.
 *
 * DIAG(code, severity, title): the code is stable across releases and is
 * what users search for; the title is the one-line summary used in the
 * documentation table. Never renumber or reuse a code.
 */
#define DIAG_CODES(DIAG) \
	DIAG(E001, ERROR,   "unexpected character") \
	DIAG(E002, ERROR,   "unterminated string") \
	DIAG(E003, ERROR,   "invalid escape sequence") \
	DIAG(E004, ERROR,   "invalid UTF-8") \
	DIAG(E005, ERROR,   "syntax error") \
	DIAG(E006, ERROR,   "unknown keyword") \
	DIAG(E010, ERROR,   "unknown setting") \
	DIAG(E011, ERROR,   "invalid value for a setting") \
	DIAG(E012, ERROR,   "wrong type of value") \
	DIAG(E013, ERROR,   "setting given twice") \
	DIAG(E014, ERROR,   "unknown condition subject") \
	DIAG(E015, ERROR,   "operator not supported for this subject") \
	DIAG(E016, ERROR,   "statement not allowed here") \
	DIAG(E017, ERROR,   "block given twice") \
	DIAG(E018, ERROR,   "missing or empty name") \
	DIAG(E020, ERROR,   "duration must be positive") \
	DIAG(E021, ERROR,   "duration longer than 24 hours") \
	DIAG(E022, ERROR,   "max shorter than duration") \
	DIAG(E023, ERROR,   "reason min above max") \
	DIAG(E024, ERROR,   "invalid time of day") \
	DIAG(E025, ERROR,   "unknown day") \
	DIAG(E026, ERROR,   "invalid date") \
	DIAG(E027, ERROR,   "empty choice") \
	DIAG(E028, ERROR,   "duplicate choice") \
	DIAG(E029, ERROR,   "number out of range") \
	DIAG(E030, ERROR,   "duplicate rule name") \
	DIAG(E031, ERROR,   "missing profile identifier") \
	DIAG(E032, ERROR,   "invalid profile identifier") \
	DIAG(E033, ERROR,   "empty range") \
	DIAG(W001, WARNING, "rule or otherwise can never be reached") \
	DIAG(W002, WARNING, "settings in a deny rule never apply") \
	DIAG(W003, WARNING, "setting the target cannot express")
