using System.Runtime.InteropServices;

namespace Portcullis.Configuration;

/// <summary>What is at a path, without following a symbolic link (lstat semantics).</summary>
public enum FileKind { Missing, Regular, Directory, SymbolicLink, Socket, Other }

/// <summary>The two libc calls .NET does not expose: the file type (statx) and the umask.</summary>
internal static class Posix
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const int StatxModeOffset = 28; // struct statx: u32 mask, u32 blksize, u64 attributes, u32 nlink, uid, gid, then u16 mode
    private const int ENOENT = 2, ENOTDIR = 20;

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);

    [DllImport("libc")]
    private static extern uint umask(uint mask);

    /// <summary>The file type at <paramref name="path"/>; a symbolic link is reported as such, never followed.</summary>
    public static FileKind Kind(string path)
    {
        byte[] buffer = new byte[256];
        if (statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType, buffer) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno is ENOENT or ENOTDIR)
                return FileKind.Missing;
            throw new IOException($"{path}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }
        return (BitConverter.ToUInt16(buffer, StatxModeOffset) & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0xA000 => FileKind.SymbolicLink,
            0xC000 => FileKind.Socket,
            _ => FileKind.Other,
        };
    }

    /// <summary>Type, owner, group and permission bits at <paramref name="path"/> (not following a link); null when missing.</summary>
    public static (FileKind Kind, int Uid, int Gid, int Mode)? Stat(string path)
    {
        byte[] buffer = new byte[256];
        const uint mask = 0x1 | 0x2 | 0x8 | 0x10; // STATX_TYPE | STATX_MODE | STATX_UID | STATX_GID
        if (statx(AtFdCwd, path, AtSymlinkNoFollow, mask, buffer) != 0)
            return null;
        int mode = BitConverter.ToUInt16(buffer, StatxModeOffset);
        var kind = (mode & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0xA000 => FileKind.SymbolicLink,
            0xC000 => FileKind.Socket,
            _ => FileKind.Other,
        };
        return (kind, BitConverter.ToInt32(buffer, 20), BitConverter.ToInt32(buffer, 24), mode & 0xFFF);
    }

    /// <summary>Sets the process umask; returns the previous one.</summary>
    public static UnixFileMode SetUmask(UnixFileMode mask) => (UnixFileMode)umask((uint)mask);

    public static string Describe(FileKind kind) => kind switch
    {
        FileKind.Regular => "a regular file",
        FileKind.Directory => "a directory",
        FileKind.SymbolicLink => "a symbolic link",
        FileKind.Socket => "a socket",
        _ => "a special file",
    };
}
