using System.Buffers.Binary;

namespace Sfu.Fuzz;

/// <summary>
/// Several datagrams in one fuzz input, for the state machines whose behaviour depends on what came before (a
/// handshake, a replay window): each is a 2-byte big-endian length and that many bytes; a length running past the end
/// takes what is left.
/// </summary>
public ref struct Datagrams(ReadOnlySpan<byte> input)
{
    private ReadOnlySpan<byte> _rest = input;

    public ReadOnlySpan<byte> Current { get; private set; }

    public readonly Datagrams GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_rest.Length < 2)
        {
            return false;
        }

        int length = Math.Min(BinaryPrimitives.ReadUInt16BigEndian(_rest), _rest.Length - 2);
        Current = _rest.Slice(2, length);
        _rest = _rest[(2 + length)..];
        return true;
    }
}
