using Microsoft.Extensions.Configuration;

namespace Observatoire.Tests.Cli;

/// <summary>The command line without settings (run from a folder without appsettings.json).</summary>
public sealed class CliTests
{
    [Fact]
    public async Task A_verb_without_a_connection_string_says_where_the_settings_are_expected()
    {
        var config = new ConfigurationBuilder().Build();
        var err = new StringWriter();
        var previous = Console.Error;
        Console.SetError(err);
        try
        {
            Assert.Equal(3, await Observatoire.Cli.RunAsync(["migrate"], config));
        }
        finally { Console.SetError(previous); }
        Assert.Contains("ConnectionStrings__Observatoire", err.ToString());
        Assert.Contains("src/Observatoire", err.ToString());
    }
}
