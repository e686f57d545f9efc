; The Windows installer, built by scripts/windows with Debian's makensis (NSIS 3):
;   makensis -DVERSION=0.1.0 -DSRC=<dir with the two .exe> -DROOT=<the repository> \
;            -DOUTFILE=<sockscope-0.1.0-x86_64-windows-setup.exe> assets/windows/sockscope.nsi
; Per user, without admin rights: the program in %LOCALAPPDATA%\Programs\SockScope, a
; Start-menu shortcut, .ron profiles opening in SockScope (double-click), the console program's
; folder on the user's PATH, and an entry under Settings → Apps that runs the uninstaller.
; Silent: setup.exe /S (and /D=C:\Somewhere as the last argument for another folder);
; uninstall.exe /S.
; Installed again into another folder, it first removes the copy it finds (the Apps entry's
; InstallLocation) with that copy's own uninstaller: one copy, one PATH entry, one Apps entry.
; On Windows older than 10 it refuses: a message box, or under /S exit code 1150
; (ERROR_OLD_WIN_VERSION), the sentence on stderr when there is one and in
; %TEMP%\sockscope-setup.log.

Unicode true
; 64-bit, as the program is (Windows 10 or later on x86-64).
Target amd64-unicode
SetCompressor /SOLID lzma
RequestExecutionLevel user
; A file that cannot be written stops the install (never skipped in silence: a half-updated
; copy, the window program one version and the console program another).
AllowSkipFiles off

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "WinVer.nsh"
!include "WinMessages.nsh"
!include "StrFunc.nsh"
!include "FileFunc.nsh"
; StrFunc's functions are declared once before use.
${StrStr}
${StrRep}
${UnStrRep}

!ifndef VERSION
  !error "give -DVERSION=x.y.z"
!endif
!ifndef SRC
  !error "give -DSRC=<folder with sockscope.exe and sockscope-cli.exe>"
!endif
!ifndef ROOT
  !error "give -DROOT=<the repository>"
!endif
!ifndef OUTFILE
  !define OUTFILE "sockscope-${VERSION}-x86_64-windows-setup.exe"
!endif

!define APP "SockScope"
!define PROGID "SockScope.Profile"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\SockScope"
!define CLASSES "Software\Classes"

Name "${APP} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${APP}"
InstallDirRegKey HKCU "${UNINSTALL_KEY}" "InstallLocation"
BrandingText "${APP} ${VERSION}"

VIProductVersion "${VERSION}.0"
VIAddVersionKey /LANG=1033 "ProductName" "${APP}"
VIAddVersionKey /LANG=1033 "FileDescription" "${APP} setup"
VIAddVersionKey /LANG=1033 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "LegalCopyright" "SockScope developers, MIT OR Apache-2.0"

!define MUI_ICON "${ROOT}\assets\icon\sockscope.ico"
!define MUI_UNICON "${ROOT}\assets\icon\sockscope.ico"
!define MUI_FINISHPAGE_RUN "$INSTDIR\sockscope.exe"
; The Finish page's picture (164 × 314): SockScope's icon, not NSIS's stock one.
!define MUI_WELCOMEFINISHPAGE_BITMAP "${ROOT}\assets\windows\wizard.bmp"
; Leaving the folder page: another folder than the installed copy's asks first.
!define MUI_PAGE_CUSTOMFUNCTION_LEAVE DirectoryLeave
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
; The installer speaks the system's language: English, or Simplified Chinese.
!insertmacro MUI_LANGUAGE "English"
!insertmacro MUI_LANGUAGE "SimpChinese"

; The folder of the copy already installed (the Apps entry's), or empty.
Var Previous

LangString NeedsWindows10 ${LANG_ENGLISH} "SockScope needs Windows 10 or later."
LangString NeedsWindows10 ${LANG_SIMPCHINESE} "SockScope 需要 Windows 10 或更高版本。"
LangString PathTooLong ${LANG_ENGLISH} "Your PATH is too long for Setup to change safely, so it was left as it was: to run sockscope-cli from any folder, make sure $INSTDIR is on it."
LangString PathTooLong ${LANG_SIMPCHINESE} "PATH 太长，安装程序无法安全修改，已保持原样：如需在任意目录运行 sockscope-cli，请确认 $INSTDIR 在 PATH 中。"
LangString PathTooLongUn ${LANG_ENGLISH} "Your PATH is too long for the uninstaller to change safely, so it was left as it was: remove $INSTDIR from it yourself."
LangString PathTooLongUn ${LANG_SIMPCHINESE} "PATH 太长，卸载程序无法安全修改，已保持原样：请手动从 PATH 中删除 $INSTDIR。"
LangString PathTooLongOld ${LANG_ENGLISH} "Your PATH is too long for Setup to change safely, so it was left as it was: remove $Previous from it yourself."
LangString PathTooLongOld ${LANG_SIMPCHINESE} "PATH 太长，安装程序无法安全修改，已保持原样：请手动从 PATH 中删除 $Previous。"
LangString ProfileType ${LANG_ENGLISH} "SockScope profile"
LangString ProfileType ${LANG_SIMPCHINESE} "SockScope 配置"
LangString MovesFrom ${LANG_ENGLISH} "SockScope is installed in $Previous. Setup removes that copy and installs it in $INSTDIR."
LangString MovesFrom ${LANG_SIMPCHINESE} "SockScope 已安装在 $Previous。安装程序会先移除那一份，再安装到 $INSTDIR。"
LangString Removing ${LANG_ENGLISH} "Removing the copy in $Previous"
LangString Removing ${LANG_SIMPCHINESE} "正在移除 $Previous 中的那一份"
LangString NotRemoved ${LANG_ENGLISH} "The copy in $Previous could not be removed completely (its uninstaller returned $0): remove what is left of it yourself."
LangString NotRemoved ${LANG_SIMPCHINESE} "未能完全移除 $Previous 中的那一份（其卸载程序返回 $0）：请手动删除剩下的文件。"

LangString Running ${LANG_ENGLISH} "SockScope is running ($R9): close it, then choose Retry."
LangString Running ${LANG_SIMPCHINESE} "SockScope 正在运行（$R9）：请先关闭它，再点“重试”。"
LangString RunningSilent ${LANG_ENGLISH} "SockScope is running ($R9), so nothing was changed: close it and run this again. (exit code 32)"
LangString RunningSilent ${LANG_SIMPCHINESE} "SockScope 正在运行（$R9），因此未做任何改动：请关闭它后再运行一次。（退出码 32）"

; ERROR_SHARING_VIOLATION: a running SockScope holds its .exe.
!define EXIT_IN_USE 32
; ERROR_OLD_WIN_VERSION: "The specified program requires a newer version of Windows."
!define EXIT_OLD_WINDOWS 1150

; A line in %TEMP%\sockscope-setup.log (UTF-16, so Chinese survives), with the date and time:
; where a silent install or uninstall says what it did and why it stopped.
; Push "the sentence" / Call Log
!macro LOG_FUNCTION un
Function ${un}Log
  Exch $R0
  Push $R1
  Push $R2
  Push $R3
  Push $R4
  Push $R5
  Push $R6
  Push $R7
  Push $R8
  ${GetTime} "" "L" $R2 $R3 $R4 $R5 $R6 $R7 $R8
  ClearErrors
  FileOpen $R1 "$TEMP\sockscope-setup.log" a
  ${IfNot} ${Errors}
    FileSeek $R1 0 END
    FileWriteUTF16LE /BOM $R1 "$R4-$R3-$R2 $R6:$R7:$R8 ${APP} ${VERSION}: $R0$\r$\n"
    FileClose $R1
  ${EndIf}
  Pop $R8
  Pop $R7
  Pop $R6
  Pop $R5
  Pop $R4
  Pop $R3
  Pop $R2
  Pop $R1
  Pop $R0
FunctionEnd
!macroend
!insertmacro LOG_FUNCTION ""
!insertmacro LOG_FUNCTION "un."

; The user's PATH, read only when it can be changed whole. In: $2, the folder to add or
; remove. Out: $0, the PATH ("" when there is none); $1, "ok" (read whole, and it with $2 and
; two separators fits an NSIS string), "absent" (no PATH yet) or "long" (a PATH that NSIS
; cannot hold, or not text: it must be left alone, never written from a failed or cut read).
; NSIS strings hold ${NSIS_MAX_STRLEN} characters (Debian's makensis: 1024).
!macro READ_PATH_FUNCTION un
Function ${un}ReadPath
  Push $3
  Push $4
  ClearErrors
  ReadRegStr $0 HKCU "Environment" "Path"
  ${If} ${Errors}
    ; No value, or one ReadRegStr could not hold: which is it?
    StrCpy $0 ""
    StrCpy $1 "absent"
    StrCpy $3 0
    ${Do}
      ClearErrors
      EnumRegValue $4 HKCU "Environment" $3
      ${If} ${Errors}
      ${OrIf} $4 == ""
        ${Break}
      ${EndIf}
      ${If} $4 == "Path"
        StrCpy $1 "long"
        ${Break}
      ${EndIf}
      IntOp $3 $3 + 1
    ${Loop}
  ${Else}
    StrLen $3 $0
    StrLen $4 $2
    IntOp $3 $3 + $4
    IntOp $3 $3 + 2
    ${If} $3 < ${NSIS_MAX_STRLEN}
      StrCpy $1 "ok"
    ${Else}
      StrCpy $1 "long"
    ${EndIf}
  ${EndIf}
  Pop $4
  Pop $3
FunctionEnd
!macroend
!insertmacro READ_PATH_FUNCTION ""
!insertmacro READ_PATH_FUNCTION "un."

; Whether a program of a folder can be replaced: Windows (and Wine) refuse to open a running
; .exe for writing. Sets $R9 to the first that cannot be, when $R9 is still empty.
!macro CHECK_NOT_RUNNING folder exe
  ${If} $R9 == ""
  ${AndIf} ${FileExists} "${folder}\${exe}"
    ClearErrors
    FileOpen $R7 "${folder}\${exe}" a
    ${If} ${Errors}
      StrCpy $R9 "${folder}\${exe}"
    ${Else}
      FileClose $R7
    ${EndIf}
  ${EndIf}
!macroend

; Before anything changes: SockScope must not run from $INSTDIR (nor from $R8, the copy a move
; removes, when not empty). The wizard asks to close it (Retry/Cancel); /S writes the log line
; and exits with code 32, nothing changed. Out: $R9 empty when nothing runs, else Cancel.
!macro NOT_RUNNING_FUNCTION un
Function ${un}NotRunning
  retry:
  StrCpy $R9 ""
  !insertmacro CHECK_NOT_RUNNING "$INSTDIR" "sockscope.exe"
  !insertmacro CHECK_NOT_RUNNING "$INSTDIR" "sockscope-cli.exe"
  ${If} $R8 != ""
    !insertmacro CHECK_NOT_RUNNING "$R8" "sockscope.exe"
    !insertmacro CHECK_NOT_RUNNING "$R8" "sockscope-cli.exe"
  ${EndIf}
  ${If} $R9 != ""
    ${If} ${Silent}
      Push "$(RunningSilent)"
      Call ${un}Log
      SetErrorLevel ${EXIT_IN_USE}
      Quit
    ${EndIf}
    MessageBox MB_RETRYCANCEL|MB_ICONEXCLAMATION "$(Running)" IDRETRY retry
  ${EndIf}
FunctionEnd
!macroend
!insertmacro NOT_RUNNING_FUNCTION ""
!insertmacro NOT_RUNNING_FUNCTION "un."

Function .onInit
  ; Rust's standard library needs Windows 10 (its std uses APIs older systems lack).
  ${IfNot} ${AtLeastWin10}
    ${If} ${Silent}
      ; No window to say it in: the exit code, stderr when the caller gave one (a redirect,
      ; a deployment tool), and a log a deployer finds in the user's TEMP.
      System::Call 'kernel32::GetStdHandle(i -12) p.r0'
      ${If} $0 P<> 0
      ${AndIf} $0 P<> -1
        FileWrite $0 "$(NeedsWindows10)$\r$\n"
      ${EndIf}
      Push "$(NeedsWindows10) (exit code ${EXIT_OLD_WINDOWS})"
      Call Log
    ${Else}
      MessageBox MB_OK|MB_ICONSTOP "$(NeedsWindows10)"
    ${EndIf}
    SetErrorLevel ${EXIT_OLD_WINDOWS}
    Quit
  ${EndIf}
  ; NSIS reads /D= only unquoted; PowerShell (as any program that quotes an argument with a
  ; space in it) passes "/D=C:\My Tools\SockScope", which NSIS would ignore for the default.
  ${StrStr} $0 $CMDLINE ' "/D='
  ${If} $0 != ""
    StrCpy $0 $0 "" 5
    StrCpy $1 $0 1 -1
    ${If} $1 == '"'
      StrCpy $0 $0 -1
    ${EndIf}
    StrCpy $INSTDIR $0
  ${EndIf}
  ReadRegStr $Previous HKCU "${UNINSTALL_KEY}" "InstallLocation"
  ; Silent: the folder is known now; a running SockScope stops it before anything changes.
  ${If} ${Silent}
    Call OldCopy
    Call NotRunning
  ${EndIf}
FunctionEnd

; $R8: the installed copy's folder when it is another than the one chosen, else empty.
Function OldCopy
  StrCpy $R8 ""
  ${If} $Previous != ""
  ${AndIf} $Previous != $INSTDIR
    StrCpy $R8 $Previous
  ${EndIf}
FunctionEnd

; $1: 1 when a copy is installed in another folder than the one chosen, with its uninstaller.
Function MovesFromAnotherFolder
  StrCpy $1 0
  ${If} $Previous != ""
  ${AndIf} $Previous != $INSTDIR
  ${AndIf} ${FileExists} "$Previous\uninstall.exe"
    StrCpy $1 1
  ${EndIf}
FunctionEnd

Function DirectoryLeave
  ; SockScope running there (or in the copy a move removes): Cancel stays on the page.
  Call OldCopy
  Call NotRunning
  ${If} $R9 != ""
    Abort
  ${EndIf}
  Call MovesFromAnotherFolder
  ${If} $1 == 1
    ; Cancel stays on the folder page.
    MessageBox MB_OKCANCEL|MB_ICONINFORMATION "$(MovesFrom)" IDOK moves
    Abort
    moves:
  ${EndIf}
FunctionEnd

Section "SockScope"
  ; Another folder than the installed copy's: that copy goes first, by its own uninstaller,
  ; which takes its files, PATH entry, association and Apps entry with it. `_?=` runs it in
  ; place (otherwise it copies itself to TEMP and returns at once, before its work is done),
  ; so it cannot remove itself and its folder: that is done here after it ended.
  ; (SockScope started again since the folder page: asked again, before anything changes.)
  Call OldCopy
  Call NotRunning
  ${If} $R9 != ""
    Abort
  ${EndIf}
  Call MovesFromAnotherFolder
  ${If} $1 == 1
    DetailPrint "$(Removing)"
    ClearErrors
    ExecWait '"$Previous\uninstall.exe" /S _?=$Previous' $0
    ${If} ${Errors}
    ${OrIf} $0 != 0
      DetailPrint "$(NotRemoved)"
      MessageBox MB_OK|MB_ICONEXCLAMATION "$(NotRemoved)" /SD IDOK
    ${Else}
      Delete "$Previous\uninstall.exe"
      RMDir "$Previous"
    ${EndIf}
  ${ElseIf} $Previous != ""
  ${AndIf} $Previous != $INSTDIR
    ; That copy's folder is gone (deleted by hand, uninstaller and all): the PATH entry it
    ; added would stay behind, ahead of this one. It goes here as its uninstaller would.
    ReadRegDWORD $1 HKCU "${UNINSTALL_KEY}" "AddedToPath"
    ${If} $1 == 1
      StrCpy $2 $Previous
      Call ReadPath
      ${If} $1 == "ok"
        ${StrRep} $0 ";$0;" ";$Previous;" ";"
        StrCpy $0 $0 "" 1
        StrCpy $0 $0 -1
        ${If} $0 == ""
          DeleteRegValue HKCU "Environment" "Path"
        ${Else}
          WriteRegExpandStr HKCU "Environment" "Path" "$0"
        ${EndIf}
      ${ElseIf} $1 == "long"
        DetailPrint "$(PathTooLongOld)"
        Push "$(PathTooLongOld)"
        Call Log
        MessageBox MB_OK|MB_ICONEXCLAMATION "$(PathTooLongOld)" /SD IDOK
      ${EndIf}
    ${EndIf}
  ${EndIf}
  SetOutPath "$INSTDIR"
  File "${SRC}\sockscope.exe"
  File "${SRC}\sockscope-cli.exe"
  File "/oname=README.md" "${ROOT}\README.md"
  File "/oname=LICENSE-MIT.txt" "${ROOT}\LICENSE-MIT"
  File "/oname=LICENSE-APACHE.txt" "${ROOT}\LICENSE-APACHE"
  File "/oname=LICENSE-OFL.txt" "${ROOT}\assets\fonts\LICENSE-OFL.txt"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  ; Start menu (the user's own, no admin rights needed).
  CreateShortcut "$SMPROGRAMS\${APP}.lnk" "$INSTDIR\sockscope.exe" "" "$INSTDIR\sockscope.exe" 0

  ; .ron profiles open in SockScope (double-click, or Open with).
  WriteRegStr HKCU "${CLASSES}\.ron" "" "${PROGID}"
  WriteRegStr HKCU "${CLASSES}\.ron\OpenWithProgids" "${PROGID}" ""
  WriteRegStr HKCU "${CLASSES}\${PROGID}" "" "$(ProfileType)"
  WriteRegStr HKCU "${CLASSES}\${PROGID}\DefaultIcon" "" "$INSTDIR\sockscope.exe,0"
  WriteRegStr HKCU "${CLASSES}\${PROGID}\shell\open\command" "" '"$INSTDIR\sockscope.exe" "%1"'
  WriteRegStr HKCU "${CLASSES}\Applications\sockscope.exe\shell\open\command" "" '"$INSTDIR\sockscope.exe" "%1"'
  ; Tell Explorer the associations changed (SHCNE_ASSOCCHANGED).
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'

  ; Settings → Apps: name, version, icon, size, and the uninstaller (also silent).
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "${APP}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "SockScope developers"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\sockscope.exe,0"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1
  SectionGetSize 0 $0
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "EstimatedSize" $0

  ; sockscope-cli from any console: the folder goes on the user's PATH, once.
  ; A PATH NSIS cannot hold whole is left alone (written from a failed or cut read, it was
  ; replaced by this folder alone, or cut at 1023 characters), and the user is told.
  StrCpy $2 $INSTDIR
  Call ReadPath
  ${If} $1 == "long"
    DetailPrint "$(PathTooLong)"
    Push "$(PathTooLong)"
    Call Log
    MessageBox MB_OK|MB_ICONEXCLAMATION "$(PathTooLong)" /SD IDOK
  ${Else}
    ${StrStr} $2 ";$0;" ";$INSTDIR;"
    ${If} $2 == ""
      ${If} $0 == ""
        WriteRegExpandStr HKCU "Environment" "Path" "$INSTDIR"
      ${Else}
        WriteRegExpandStr HKCU "Environment" "Path" "$0;$INSTDIR"
      ${EndIf}
      WriteRegDWORD HKCU "${UNINSTALL_KEY}" "AddedToPath" 1
      SendMessage ${HWND_BROADCAST} ${WM_SETTINGCHANGE} 0 "STR:Environment" /TIMEOUT=2000
    ${EndIf}
  ${EndIf}

  ; One line a successful run, as a failed one writes: what a deployment finds afterwards.
  ${If} $Previous == ""
    Push "installed in $INSTDIR"
  ${ElseIf} $Previous == $INSTDIR
    Push "updated in $INSTDIR"
  ${Else}
    Push "moved from $Previous to $INSTDIR"
  ${EndIf}
  Call Log
SectionEnd

Function un.onInit
  ; A running SockScope would stay behind with nothing left to uninstall it: nothing is
  ; removed until it is closed (/S: exit code 32 and the log line).
  StrCpy $R8 ""
  Call un.NotRunning
  ${If} $R9 != ""
    Quit
  ${EndIf}
FunctionEnd

Section "Uninstall"
  ; PATH: only the entry we added.
  ReadRegDWORD $1 HKCU "${UNINSTALL_KEY}" "AddedToPath"
  ${If} $1 == 1
    StrCpy $2 $INSTDIR
    Call un.ReadPath
    ${If} $1 == "ok"
      ; Between separators of our own, so the first, a middle and the last entry read alike;
      ; then the two added separators go again.
      ${UnStrRep} $0 ";$0;" ";$INSTDIR;" ";"
      StrCpy $0 $0 "" 1
      StrCpy $0 $0 -1
      ${If} $0 == ""
        DeleteRegValue HKCU "Environment" "Path"
      ${Else}
        WriteRegExpandStr HKCU "Environment" "Path" "$0"
      ${EndIf}
      SendMessage ${HWND_BROADCAST} ${WM_SETTINGCHANGE} 0 "STR:Environment" /TIMEOUT=2000
    ${ElseIf} $1 == "long"
      ; Too long to hold whole: left as it is, never deleted or cut.
      DetailPrint "$(PathTooLongUn)"
      Push "$(PathTooLongUn)"
      Call un.Log
      MessageBox MB_OK|MB_ICONEXCLAMATION "$(PathTooLongUn)" /SD IDOK
    ${EndIf}
  ${EndIf}

  ; .ron: our type goes; the extension's default only if it is still ours.
  DeleteRegKey HKCU "${CLASSES}\${PROGID}"
  DeleteRegKey HKCU "${CLASSES}\Applications\sockscope.exe"
  DeleteRegValue HKCU "${CLASSES}\.ron\OpenWithProgids" "${PROGID}"
  DeleteRegKey /ifempty HKCU "${CLASSES}\.ron\OpenWithProgids"
  ReadRegStr $0 HKCU "${CLASSES}\.ron" ""
  ${If} $0 == "${PROGID}"
    DeleteRegValue HKCU "${CLASSES}\.ron" ""
  ${EndIf}
  DeleteRegKey /ifempty HKCU "${CLASSES}\.ron"
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'

  Delete "$SMPROGRAMS\${APP}.lnk"
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
  Delete "$INSTDIR\sockscope.exe"
  Delete "$INSTDIR\sockscope-cli.exe"
  Delete "$INSTDIR\README.md"
  Delete "$INSTDIR\LICENSE-MIT.txt"
  Delete "$INSTDIR\LICENSE-APACHE.txt"
  Delete "$INSTDIR\LICENSE-OFL.txt"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  Push "uninstalled from $INSTDIR"
  Call un.Log
SectionEnd
