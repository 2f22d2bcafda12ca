"""The documents' lifecycle: the 专报 (special report to the city's leaders), drafted from the read
model, edited, reviewed by a second person, issued with a 发文字号 and kept immutable from then on."""
