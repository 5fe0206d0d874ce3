; Installer for Conduct Casebook (NSIS 3). Built by installer\build.cmd on Windows, which
; runs (from the repository's top folder):
;   makensis /DVERSION=0.1.0 installer\casebook.nsi
; SOURCE (the PyInstaller folder) and OUTFILE may be given too; see the defaults below.
;
; It installs the program folder under Program Files, adds a Start-menu shortcut and an
; entry in Settings > Apps with its version. Installing a newer version over an older one
; is the upgrade. The uninstaller removes the program only: every casebook (the per-user
; data folders and a shared one under ProgramData) stays where it is, with its backups.

Unicode true
ManifestDPIAware true
!include "MUI2.nsh"
!include "x64.nsh"
!include "FileFunc.nsh"

!ifndef VERSION
  !error "Give the version: makensis /DVERSION=x.y.z installer\casebook.nsi"
!endif
!ifndef SOURCE
  !define SOURCE "..\dist\ConductCasebook"
!endif
!ifndef OUTFILE
  !define OUTFILE "..\dist\ConductCasebook-${VERSION}-setup.exe"
!endif

!define PRODUCT "Conduct Casebook"
!define PUBLISHER "Conduct Casebook"
!define REGKEY "Software\ConductCasebook"
!define UNINSTKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\ConductCasebook"

Name "${PRODUCT}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${PRODUCT}"
InstallDirRegKey HKLM "${REGKEY}" "InstallDir"
RequestExecutionLevel admin
SetCompressor /SOLID lzma
BrandingText "${PRODUCT} ${VERSION}"

; Version information shown under the installer's Properties > Details.
VIProductVersion "${VERSION}.0"
VIFileVersion "${VERSION}.0"
VIAddVersionKey /LANG=1033 "ProductName" "${PRODUCT}"
VIAddVersionKey /LANG=1033 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "FileDescription" "${PRODUCT} ${VERSION} installer"
VIAddVersionKey /LANG=1033 "CompanyName" "${PUBLISHER}"
VIAddVersionKey /LANG=1033 "LegalCopyright" "Licensed to the school; see the README."

!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\ConductCasebook.exe"
!define MUI_FINISHPAGE_RUN_TEXT "Open ${PRODUCT} now"
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_OK|MB_ICONSTOP "${PRODUCT} needs 64-bit Windows 10 or 11."
    Abort
  ${EndIf}
  SetRegView 64
FunctionEnd

Function un.onInit
  SetRegView 64
FunctionEnd

Section "${PRODUCT}" SectionProgram
  SectionIn RO
  SetOutPath "$INSTDIR"
  ; An upgrade replaces the program's own files; nothing outside this folder is touched.
  RMDir /r "$INSTDIR\_internal"
  File /r "${SOURCE}\*.*"
  WriteUninstaller "$INSTDIR\Uninstall.exe"

  SetShellVarContext all
  CreateDirectory "$SMPROGRAMS\${PRODUCT}"
  CreateShortcut "$SMPROGRAMS\${PRODUCT}\${PRODUCT}.lnk" "$INSTDIR\ConductCasebook.exe" "" "$INSTDIR\ConductCasebook.exe" 0
  CreateShortcut "$SMPROGRAMS\${PRODUCT}\Uninstall ${PRODUCT}.lnk" "$INSTDIR\Uninstall.exe"

  WriteRegStr HKLM "${REGKEY}" "InstallDir" "$INSTDIR"
  WriteRegStr HKLM "${REGKEY}" "Version" "${VERSION}"
  WriteRegStr HKLM "${UNINSTKEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKLM "${UNINSTKEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINSTKEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKLM "${UNINSTKEY}" "DisplayIcon" "$INSTDIR\ConductCasebook.exe"
  WriteRegStr HKLM "${UNINSTKEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINSTKEY}" "UninstallString" '"$INSTDIR\Uninstall.exe"'
  WriteRegStr HKLM "${UNINSTKEY}" "QuietUninstallString" '"$INSTDIR\Uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINSTKEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINSTKEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD HKLM "${UNINSTKEY}" "EstimatedSize" $0
SectionEnd

Section "Uninstall"
  SetShellVarContext all
  Delete "$SMPROGRAMS\${PRODUCT}\${PRODUCT}.lnk"
  Delete "$SMPROGRAMS\${PRODUCT}\Uninstall ${PRODUCT}.lnk"
  RMDir "$SMPROGRAMS\${PRODUCT}"
  ; The program's own files only. The casebooks are the school's records and are kept:
  ; %LOCALAPPDATA%\ConductCasebook for each user, and %ProgramData%\ConductCasebook when
  ; shared. Remove them by hand, after a last backup, only when they are no longer needed.
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\ConductCasebook.exe"
  Delete "$INSTDIR\casebook.exe"
  Delete "$INSTDIR\Uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKLM "${UNINSTKEY}"
  DeleteRegKey HKLM "${REGKEY}"
SectionEnd
