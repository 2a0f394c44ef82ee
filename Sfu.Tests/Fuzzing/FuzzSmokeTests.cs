using Sfu.Fuzz;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Fuzzing;

/// <summary>
/// A bounded run of every fuzz target (fuzz/Sfu.Fuzz, the entry points AFL++ runs through fuzz/run.sh) over its
/// committed corpus and a few thousand seeded mutations of it, in process. An exception out of a target is a bug in
/// the code under test: the targets catch only what their parsers document as a refusal.
/// </summary>
public class FuzzSmokeTests
{
    // A few thousand each, fewer for the targets whose single execution costs a millisecond or more (a whole browser
    // SDP through five parses and three builders, an OpenSSL handshake step, a request through the signaling core and
    // media plane), so that the whole run stays within seconds.
    private static int MutationsOf(string target) => target switch
    {
        "sdp" or "dtls" => 300,
        "signaling" => 1000,
        _ => 3000,
    };

    public static IEnumerable<string> Targets => FuzzTargets.Names;

    [TestCaseSource(nameof(Targets))]
    public void Target_SurvivesItsCorpusAndMutationsOfIt(string name)
    {
        var corpus = Directory.GetFiles(RepositoryFiles.PathOf("fuzz", "corpus", name)).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList();
        Assert.That(corpus, Is.Not.Empty, $"fuzz/corpus/{name}/ has no seeds");
        using var target = FuzzTargets.Create(name)!;
        foreach (var seed in corpus)
        {
            target.Execute(seed);
        }

        var mutator = new ByteMutator(seed: 8285);
        for (int i = 0; i < MutationsOf(name); i++)
        {
            var input = mutator.Mutate(corpus[i % corpus.Count]);
            try
            {
                target.Execute(input);
            }
            catch (Exception ex)
            {
                Assert.Fail($"mutation {i} ({input.Length} bytes: {Convert.ToHexString(input.AsSpan(0, Math.Min(input.Length, 256)))}) threw {ex}");
            }
        }
    }
}
