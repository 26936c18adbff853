/** grove's version, apart from the command table: the commands bundle prints it without building the table again. */
export const version = "0.1.0"
