using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;

namespace Observatoire.Import;

/// <summary>An input problem a user can fix: reported in French, naming the file; nothing is written.</summary>
public sealed class ImportException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Opening, decompressing and hashing input files, with errors that name the file.</summary>
public static class ImportFiles
{
    /// <summary>Finds <paramref name="name"/> or <paramref name="name"/>.gz in a folder.</summary>
    public static string Find(string directory, string name)
    {
        foreach (var candidate in new[] { name, name + ".gz" })
        {
            var p = Path.Combine(directory, candidate);
            if (File.Exists(p)) return p;
        }
        throw new ImportException($"Fichier introuvable : {Path.Combine(directory, name)} (ni .gz).");
    }

    /// <summary>Opens a file, decompressing it when it ends in .gz.</summary>
    public static Stream Open(string path)
    {
        if (!File.Exists(path)) throw new ImportException($"Fichier introuvable : {path}");
        Stream s = File.OpenRead(path);
        return path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(s, CompressionMode.Decompress) : s;
    }

    public static T ReadJson<T>(string path, JsonSerializerOptions options)
    {
        try
        {
            using var s = Open(path);
            return JsonSerializer.Deserialize<T>(s, options)
                ?? throw new ImportException($"Le fichier {path} est vide (JSON null).");
        }
        catch (JsonException e)
        {
            throw new ImportException(
                $"Le fichier {path} n'est pas un JSON valide (tronqué ou corrompu ?) : ligne {e.LineNumber + 1}, octet {e.BytePositionInLine}.", e);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            throw new ImportException($"Le fichier {path} est une archive gzip corrompue ou tronquée.", e);
        }
    }

    /// <summary>SHA-256 over the files' bytes, in the given order: the identity of an input set.</summary>
    public static string Checksum(IEnumerable<string> paths)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var p in paths)
        {
            h.AppendData(System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(p)));
            using var s = File.OpenRead(p);
            var buf = new byte[1 << 16];
            int n;
            while ((n = s.Read(buf)) > 0) h.AppendData(buf, 0, n);
        }
        return Convert.ToHexStringLower(h.GetHashAndReset());
    }
}
