@echo off
rem Developer tools first on every logon.
setx PATH "C:\Users\Public\tools;%PATH%"
