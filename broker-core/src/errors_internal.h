/* Private: the text clean-up every error message gets. */
#ifndef OSB_ERRORS_INTERNAL_H
#define OSB_ERRORS_INTERNAL_H

/** Make `msg` one line in place: control characters become spaces, runs of spaces one, no spaces at the ends. */
void osb_errbuf__one_line(char *msg);

#endif
