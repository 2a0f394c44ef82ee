namespace Sfu.Tests.Infrastructure;

/// <summary>Finds files of the source tree (fixtures, scripts) from the test's output folder.</summary>
public static class RepositoryFiles
{
    private static readonly Lazy<string> Root = new(FindRoot);

    /// <summary>The absolute path of <paramref name="relativePath"/> under the repository root (where Sfu.sln is).</summary>
    public static string PathOf(params string[] relativePath) => Path.Combine([Root.Value, .. relativePath]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Sfu.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException("Sfu.sln not found above " + TestContext.CurrentContext.TestDirectory);
    }
}
