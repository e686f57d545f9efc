/* Test-only stand-in for Windows' bcryptprimitives.dll, which Wine 8 lacks: Rust's std (1.78+)
 * imports ProcessPrng from it for random numbers (HashMap keys). This exports ProcessPrng on
 * top of SystemFunction036 (RtlGenRandom), which Wine has. scripts/windows builds it with
 * mingw and puts it beside the .exe under test; it is never shipped (Windows 10 has the real
 * DLL). */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
