"""underlag: decision-basis reports from data and Quarto chapters to DOCX, PDF and HTML."""
