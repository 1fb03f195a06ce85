"""Word and Excel documents (issue 17): minutes as .docx, the sign-in sheet,
a poll's results and the statistics tables as .xlsx, and CSV for Excel."""
