using System.Buffers;

namespace Portcullis.Core.Protocol;

public enum FrameStatus { Done, NeedMoreData, Invalid }

/// <summary>Why a frame is invalid: a bounded set, fit for a metric label.</summary>
public enum FrameError { None, NotADigit, EmptyLength, LeadingZero, TooManyDigits, TooLong, MissingComma }

/// <summary>A code for programs and tests, with the detail a person reads in the log.</summary>
public readonly record struct FrameProblem(FrameError Code, string Detail);

/// <summary>
/// Netstring framing (<c>len ":" bytes ","</c>) as Postfix's socketmap uses it. Pure: works over a
/// <see cref="SequenceReader{T}"/> so split reads and pipelined frames need no copying.
/// </summary>
public static class Netstring
{
    /// <summary>Postfix 3.12's socketmap_max_query_size; larger requests are hostile or broken.</summary>
    public const int MaxRequestLength = 10_000;

    /// <summary>Postfix's socketmap_max_reply_size (3.10+). Our replies never exceed it.</summary>
    public const int MaxReplyLength = 100_000;

    // Enough digits for any accepted length plus one, so "0000000000001:" cannot spin forever.
    private const int MaxLengthDigits = 9;

    /// <summary>
    /// Reads one frame. On <see cref="FrameStatus.Done"/> the reader has advanced past it; on
    /// NeedMoreData it is unchanged; on Invalid <paramref name="error"/> says why (else it is default).
    /// </summary>
    public static FrameStatus TryRead(ref SequenceReader<byte> reader, int maxLength,
        out ReadOnlySequence<byte> payload, out FrameProblem error)
    {
        payload = default;
        error = default;
        var probe = reader;
        long length = 0;
        int digits = 0;
        while (true)
        {
            if (!probe.TryRead(out byte b))
                return FrameStatus.NeedMoreData;
            if (b == (byte)':')
                break;
            if (b is < (byte)'0' or > (byte)'9')
            {
                error = new(FrameError.NotADigit, digits == 0 ? $"expected a length digit, got byte 0x{b:x2}" : $"unexpected byte 0x{b:x2} in length");
                return FrameStatus.Invalid;
            }
            if (digits == 1 && length == 0)
            {
                error = new(FrameError.LeadingZero, "length has a leading zero");
                return FrameStatus.Invalid;
            }
            if (++digits > MaxLengthDigits)
            {
                error = new(FrameError.TooManyDigits, "length has too many digits");
                return FrameStatus.Invalid;
            }
            length = length * 10 + (b - '0');
            if (length > maxLength)
            {
                error = new(FrameError.TooLong, $"length {length}+ exceeds the limit of {maxLength} bytes");
                return FrameStatus.Invalid;
            }
        }
        if (digits == 0)
        {
            error = new(FrameError.EmptyLength, "empty length");
            return FrameStatus.Invalid;
        }
        if (probe.Remaining < length + 1)
            return FrameStatus.NeedMoreData;
        var body = probe.UnreadSequence.Slice(0, length);
        probe.Advance(length);
        probe.TryRead(out byte comma);
        if (comma != (byte)',')
        {
            error = new(FrameError.MissingComma, $"missing ',' after {length}-byte payload (got 0x{comma:x2})");
            return FrameStatus.Invalid;
        }
        payload = body;
        reader = probe;
        return FrameStatus.Done;
    }

    /// <summary>Writes <paramref name="payload"/> as one netstring.</summary>
    public static void Write(IBufferWriter<byte> writer, ReadOnlySpan<byte> payload)
    {
        Span<byte> prefix = stackalloc byte[12];
        payload.Length.TryFormat(prefix, out int n);
        prefix[n++] = (byte)':';
        writer.Write(prefix[..n]);
        writer.Write(payload);
        writer.Write(","u8);
    }
}
