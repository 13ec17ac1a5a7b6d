namespace Portcullis.TlsRpt.Sending;

/// <summary>A PEM RSA private key file, the signing domain (d=) and selector (s=).</summary>
public sealed record DkimOptions(string KeyFile, string Domain, string Selector);
