@echo off
rem Builds the Windows program and its installer, from a clean checkout, in one command:
rem
rem     installer\build.cmd
rem
rem Needs Python 3.11 (64-bit, with the py launcher) and NSIS 3 (makensis) installed.
rem Makes dist\ConductCasebook\ (the program folder) and
rem dist\ConductCasebook-VERSION-setup.exe (the installer to give to the school's PCs).
setlocal
cd /d "%~dp0.."

if not exist .venv-build\Scripts\python.exe (
    py -3.11 -m venv .venv-build || goto :failed
)
set PY=.venv-build\Scripts\python.exe
rem Exactly the checked set of packages, each checked against its hash.
%PY% -m pip install --disable-pip-version-check --require-hashes --no-deps -r installer\requirements-windows.txt || goto :failed
%PY% -m pip install --disable-pip-version-check pyinstaller==6.22.3 || goto :failed
rem Tesseract reads the text in pictures. It is a program, not a Python package: install
rem it once on the build PC from the Windows build the Tesseract project links to
rem (https://github.com/UB-Mannheim/tesseract/wiki, 5.x, 64-bit, with English), or set
rem TESSERACT_DIR to a folder holding tesseract.exe and tessdata\eng.traineddata. Its folder
rem is copied into build\tesseract, which build.spec puts in the program folder.
if not defined TESSERACT_DIR set TESSERACT_DIR=%ProgramFiles%\Tesseract-OCR
if not exist "%TESSERACT_DIR%\tesseract.exe" (
    echo Tesseract was not found in "%TESSERACT_DIR%"; see the comment above.
    goto :failed
)
if not exist "%TESSERACT_DIR%\tessdata\eng.traineddata" (
    echo Tesseract's English data is missing from "%TESSERACT_DIR%\tessdata".
    goto :failed
)
robocopy "%TESSERACT_DIR%" build\tesseract *.exe *.dll /NFL /NDL /NJH /NJS >nul
robocopy "%TESSERACT_DIR%\tessdata" build\tesseract\tessdata eng.traineddata osd.traineddata /NFL /NDL /NJH /NJS >nul
if not exist build\tesseract\tesseract.exe goto :failed
rem The app is built from this source folder (not installed into the build environment).
set PYTHONPATH=%CD%
%PY% -m PyInstaller --noconfirm --clean --log-level WARN build.spec || goto :failed

for /f "usebackq delims=" %%v in (`%PY% -c "import app; print(app.__version__)"`) do set VERSION=%%v

set MAKENSIS=makensis
where makensis >nul 2>nul || set MAKENSIS="%ProgramFiles(x86)%\NSIS\makensis.exe"
%MAKENSIS% /V2 /DVERSION=%VERSION% installer\casebook.nsi || goto :failed

echo Built dist\ConductCasebook-%VERSION%-setup.exe
exit /b 0

:failed
echo The build stopped; the message above says why.
exit /b 1
