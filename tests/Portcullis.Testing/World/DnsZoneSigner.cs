namespace Portcullis.Testing.World;

/// <summary>Generates keys, DS records and signed zone files with ldns (ECDSAP256SHA256, KSK + ZSK per zone).</summary>
internal static class DnsZoneSigner
{
    private const string Algorithm = "ECDSAP256SHA256";

    public static string ServedFile(DnsZone z) => DnsNames.FileToken(z.Name) + (z.Signed ? ".zone.signed" : ".zone");

    public static async Task WriteZonesAsync(TempDir dir, IReadOnlyList<DnsZone> zones, CancellationToken ct)
    {
        // Keys first: a parent's DS needs only the child's KSK, so all zones can then be signed in parallel.
        var keys = new Dictionary<string, (string Ksk, string Zsk, string Ds)>();
        await Task.WhenAll(zones.Where(z => z.Signed).Select(async z =>
        {
            var ksk = await KeyGenAsync(dir, z, "ksk", ct);
            var zsk = await KeyGenAsync(dir, z, "zsk", ct);
            // Bogus: publish the DS of a key the zone never uses.
            var dsKey = z.BogusDs ? await KeyGenAsync(dir, z, "unused", ct) : ksk;
            var ds = await ChildProcess.RunCheckedAsync(TestBinaries.Require("ldns-key2ds"), ["-n", "-2", dsKey + ".key"], dir.Path, ct);
            lock (keys)
                keys[z.Name] = (ksk, zsk, ds.Trim());
        }));

        await File.WriteAllTextAsync(dir.File("root.ds"), keys["."].Ds + "\n", ct);

        await Task.WhenAll(zones.Select(async z =>
        {
            var delegations = new List<string>();
            foreach (var child in zones.Where(c => DnsWorldBuilder.ParentOf(c, zones) == z))
            {
                delegations.Add($"{child.Name} NS {DnsWorldBuilder.NameServer}");
                if (child.Signed)
                    delegations.Add(keys[child.Name].Ds);
                if (DnsNames.IsBelow(DnsWorldBuilder.NameServer, child.Name))
                    delegations.Add($"{DnsWorldBuilder.NameServer} A 127.0.0.1"); // glue
            }
            var token = DnsNames.FileToken(z.Name);
            var unsignedFile = dir.File(token + ".zone");
            await File.WriteAllTextAsync(unsignedFile, DnsWorldBuilder.ZoneFileText(z, delegations), ct);
            if (!z.Signed)
                return;
            var (ksk, zsk, _) = keys[z.Name];
            List<string> args = ["-f", dir.File(ServedFile(z)), "-o", z.Name];
            if (z.ExpiredSignatures)
                args.AddRange(["-i", "20200101", "-e", "20200201"]);
            args.AddRange([unsignedFile, ksk, zsk]);
            await ChildProcess.RunCheckedAsync(TestBinaries.Require("ldns-signzone"), args, dir.Path, ct);
        }));
    }

    // Each key in its own directory so KSK/ZSK key tags can never collide on file names. Returns the key base path.
    private static async Task<string> KeyGenAsync(TempDir dir, DnsZone z, string role, CancellationToken ct)
    {
        var keyDir = Path.Combine(dir.Path, "keys", DnsNames.FileToken(z.Name), role);
        Directory.CreateDirectory(keyDir);
        List<string> args = ["-a", Algorithm];
        if (role != "zsk")
            args.Add("-k");
        args.Add(z.Name);
        var name = await ChildProcess.RunCheckedAsync(TestBinaries.Require("ldns-keygen"), args, keyDir, ct);
        return Path.Combine(keyDir, name.Trim());
    }
}
